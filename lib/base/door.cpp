// Door: the one thread-safe way into a loop — tasks pushed from any thread run on the loop's.
#include "door.hpp"

#include <uv.h>

namespace pcj::detail {

Door::Door(uv_loop_s* loop, std::function<void(std::vector<Task>&)> run)
    : handle_(new uv_async_t), run_(std::move(run)) {
    uv_async_init(loop, handle_, &Door::on_wake);
    handle_->data = this;
    // The door alone must not keep a loop running: a component's run() returns once its
    // connection has ended even though other threads could still knock.
    uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
}

Door::~Door() {
    handle_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
}

void Door::push(Task task) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        pending_.push_back(std::move(task));
    }
    // uv_async_send is the one libuv call that is safe from any thread; several sends before
    // the loop wakes are coalesced into one callback, which drains everything.
    uv_async_send(handle_);
}

void Door::on_wake(uv_async_s* handle) {
    auto* self = static_cast<Door*>(handle->data);
    if (self == nullptr) {
        return;
    }
    {
        std::lock_guard<std::mutex> lock(self->mutex_);
        self->running_.swap(self->pending_);
    }
    self->run_(self->running_);
    self->running_.clear();
}

} // namespace pcj::detail
