// Timer implementation on uv_timer_t.
#include "timer.hpp"

#include <uv.h>

namespace pcj::detail {

Timer::Timer(uv_loop_s* loop) : handle_(new uv_timer_t) {
    uv_timer_init(loop, handle_);
    handle_->data = this;
}

Timer::~Timer() {
    handle_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

void Timer::start(std::chrono::milliseconds after, std::function<void()> callback) {
    callback_ = std::move(callback);
    active_ = true;
    const auto ms = after.count() < 0 ? 0 : static_cast<std::uint64_t>(after.count());
    uv_timer_start(handle_, &Timer::on_fire, ms, 0);
}

void Timer::stop() {
    active_ = false;
    uv_timer_stop(handle_);
}

void Timer::on_fire(uv_timer_s* handle) {
    auto* self = static_cast<Timer*>(handle->data);
    if (self == nullptr) {
        return;
    }
    self->active_ = false;
    // Move the callback out first: it may restart or destroy this timer.
    auto callback = std::move(self->callback_);
    if (callback) {
        callback();
    }
}

} // namespace pcj::detail
