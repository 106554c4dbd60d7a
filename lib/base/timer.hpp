// Timer: a one-shot libuv timer owned by a C++ object, safe to destroy at any time.
#pragma once

#include <chrono>
#include <functional>

struct uv_loop_s;
struct uv_timer_s;

namespace pcj::detail {

// The uv_timer_t lives in a heap box that outlives the Timer until libuv's close callback runs
// (libuv's rule), and the box's back-pointer is cut first, so a callback never reaches a
// destroyed Timer. The callback may destroy or restart the Timer.
class Timer {
public:
    explicit Timer(uv_loop_s* loop);
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    void start(std::chrono::milliseconds after, std::function<void()> callback);
    void stop();
    bool active() const { return active_; }

private:
    static void on_fire(uv_timer_s* handle);
    uv_timer_s* handle_;
    std::function<void()> callback_;
    bool active_ = false;
};

} // namespace pcj::detail
