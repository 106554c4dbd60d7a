// LoopFixture: a libuv loop for one test, with a watchdog and a leak check at the end.
#include "loop_fixture.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace pcj::test {
namespace {

// How long the destructor waits for closing handles and pending requests to finish.
constexpr std::uint64_t settle_ms = 5000;

// A timer in a heap box: its memory must outlive uv_close until the close callback frees it.
struct Watchdog {
    uv_timer_t timer{};
    bool fired = false;
};

void on_watchdog(uv_timer_t* timer) {
    auto* dog = static_cast<Watchdog*>(timer->data);
    dog->fired = true;
    uv_stop(timer->loop); // wake uv_run even when other handles would keep it waiting
}

void on_watchdog_closed(uv_handle_t* handle) {
    delete static_cast<Watchdog*>(handle->data);
}

// Starts a watchdog on construction and closes it on every way out (a predicate may throw).
class WatchdogGuard {
public:
    WatchdogGuard(uv_loop_t* loop, std::chrono::milliseconds timeout) : dog_(new Watchdog) {
        uv_timer_init(loop, &dog_->timer);
        dog_->timer.data = dog_;
        const auto ms = timeout.count() > 0 ? static_cast<std::uint64_t>(timeout.count()) : 0;
        // The loop's clock is cached at its last iteration, possibly long ago: a timer counted
        // from it fires early (the unit suite once saw a 50 ms run_for end after 48.2 ms).
        uv_update_time(loop);
        uv_timer_start(&dog_->timer, on_watchdog, ms, 0);
    }
    ~WatchdogGuard() { uv_close(reinterpret_cast<uv_handle_t*>(&dog_->timer), on_watchdog_closed); }
    WatchdogGuard(const WatchdogGuard&) = delete;
    WatchdogGuard& operator=(const WatchdogGuard&) = delete;

    bool fired() const { return dog_->fired; }

private:
    Watchdog* dog_;
};

// Runs the loop one iteration at a time until done() holds or the watchdog fires.
bool run_loop(uv_loop_t* loop, const std::function<bool()>& done,
              std::chrono::milliseconds timeout) {
    const WatchdogGuard dog(loop, timeout);
    for (;;) {
        if (done()) {
            return true;
        }
        if (dog.fired()) {
            return false;
        }
        uv_run(loop, UV_RUN_ONCE);
    }
}

void collect_open_handle(uv_handle_t* handle, void* arg) {
    if (uv_is_closing(handle) != 0) {
        return;
    }
    try {
        static_cast<std::vector<std::string>*>(arg)->push_back(uv_handle_type_name(handle->type));
    } catch (...) {
        // Out of memory while listing leaks: the handle is still closed below.
    }
    uv_close(handle, nullptr); // its owner leaked it; closing keeps uv_loop_close meaningful
}

} // namespace

LoopFixture::LoopFixture() : loop_() {
    if (const int rc = uv_loop_init(&loop_); rc != 0) {
        throw std::runtime_error(std::string("uv_loop_init: ") + uv_strerror(rc));
    }
}

LoopFixture::~LoopFixture() {
    std::vector<std::string> leaked;
    uv_walk(&loop_, collect_open_handle, &leaked);
    for (const std::string& type : leaked) {
        FAIL_CHECK("a " << type << " handle was still open at the end of the test");
    }

    // Let close callbacks and pending requests (a getaddrinfo in the pool) finish, bounded by
    // an unreferenced timer that only stops the loop if something never ends.
    auto* settle = new Watchdog;
    uv_timer_init(&loop_, &settle->timer);
    settle->timer.data = settle;
    uv_timer_start(&settle->timer, on_watchdog, settle_ms, 0);
    uv_unref(reinterpret_cast<uv_handle_t*>(&settle->timer));
    uv_run(&loop_, UV_RUN_DEFAULT);
    const bool hung = settle->fired;
    uv_close(reinterpret_cast<uv_handle_t*>(&settle->timer), on_watchdog_closed);
    uv_run(&loop_, UV_RUN_NOWAIT);

    CHECK_FALSE(hung);
    const int rc = uv_loop_close(&loop_);
    INFO("uv_loop_close: " << (rc == 0 ? "ok" : uv_strerror(rc)));
    CHECK(rc == 0);
}

bool LoopFixture::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    if (run_loop(&loop_, done, timeout)) {
        return true;
    }
    UNSCOPED_INFO("run_until: the condition did not hold within " << timeout.count() << " ms");
    return false;
}

void LoopFixture::run_for(std::chrono::milliseconds duration) {
    run_loop(
        &loop_, [] { return false; }, duration);
}

} // namespace pcj::test
