// Door: the one thread-safe way into a component — tasks queued from any thread, run on the loop.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

struct uv_loop_s;
struct uv_async_s;

namespace pcj::detail {

// Other threads push tasks; a uv_async_t wakes the loop, whose thread runs them in the order
// they were pushed (so per-thread order holds). The async handle lives in a heap box that
// outlives the Door until libuv's close callback runs.
class Door {
public:
    using Task = std::function<void()>;

    Door(uv_loop_s* loop, std::function<void(std::vector<Task>&)> run);
    ~Door();
    Door(const Door&) = delete;
    Door& operator=(const Door&) = delete;

    // Thread-safe.
    void push(Task task);

private:
    static void on_wake(uv_async_s* handle);
    uv_async_s* handle_;
    std::function<void(std::vector<Task>&)> run_;
    std::mutex mutex_;
    std::vector<Task> pending_;
    std::vector<Task> running_; // swapped with pending_ on the loop thread
};

} // namespace pcj::detail
