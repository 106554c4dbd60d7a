// A borrowed loop, closed the way doc/guide.md ("Closing a borrowed loop") says: after the last
// component on it is destroyed, one more uv_run lets the close callbacks of its handles run, and
// uv_loop_close then returns 0. Without that run it returns UV_EBUSY.
#include <catch2/catch.hpp>

#include <thread>

#include <uv.h>

#include "configs.hpp"
#include "recorder.hpp"
#include "scripted_peer.hpp"
#include "scripts.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

// Runs the loop without blocking until `done` holds; false after `timeout`.
bool spin(uv_loop_t* loop, const std::function<bool()>& done,
          std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        uv_run(loop, UV_RUN_NOWAIT);
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

} // namespace

TEST_CASE("borrowed loop: after the components are destroyed, one uv_run lets uv_loop_close "
          "return 0",
          "[protocol][loop]") {
    const bool graceful = GENERATE(false, true);
    CAPTURE(graceful);
    uv_loop_t loop;
    REQUIRE(uv_loop_init(&loop) == 0);
    {
        ScriptedPeer peer(&loop);
        handshake(peer).expect("</stream:stream>").send("</stream:stream>").close();
        {
            Component component(j14_config(peer.port(), 2s), &loop);
            component.connect();
            REQUIRE(spin(&loop, [&] { return component.ready(); }));
            if (graceful) { // shutdown() and the loop run until the connection has ended
                component.shutdown();
                REQUIRE(spin(&loop, [&] { return ended(component); }));
            }
        } // the component closed its handles; their close callbacks have not run yet
        REQUIRE(spin(&loop, [&] { return graceful ? peer.done() : true; }));
    }                                          // the scripted peer's handles too
    CHECK(uv_loop_close(&loop) == UV_EBUSY);   // what a program that skips the next line meets
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0); // runs the close callbacks, then nothing is left
    REQUIRE(uv_loop_close(&loop) == 0);
}
