// LoopFixture: a libuv loop for one test, with a watchdog and a leak check at the end.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <uv.h>

namespace pcj::test {

// Owns a uv_loop_t. run_until() runs the loop until the predicate holds or the timeout passes
// (returns false then, so REQUIRE(run_until(...)) fails with a clear message). The destructor
// runs the loop until every handle has closed and CHECKs that uv_loop_close returns 0.
class LoopFixture {
public:
    LoopFixture();
    ~LoopFixture();
    LoopFixture(const LoopFixture&) = delete;
    LoopFixture& operator=(const LoopFixture&) = delete;

    uv_loop_t* loop() { return &loop_; }
    bool run_until(const std::function<bool()>& done,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Runs the loop for a fixed time (to show that something does NOT happen).
    void run_for(std::chrono::milliseconds duration);

private:
    uv_loop_t loop_;
};

} // namespace pcj::test
