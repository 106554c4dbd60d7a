// Tests for the fixtures the transport and protocols are tested with: the scripted peer and the
// loop fixture. Everything is on loopback; every wait has a deadline.
#include <catch2/catch.hpp>

#include "transport_harness.hpp"

using namespace transport_test;

// ---------------------------------------------------------------------------------------------
// The fixtures themselves: a fixture that cannot fail would let broken tests pass.

TEST_CASE("scripted peer: an expect unmet when the client closes marks it failed, naming the "
          "step",
          "[transport][scripted_peer]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.send("hi").expect("hello");
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    rec.when_connected = [&] {
        t.write("help");
        t.close();
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return peer.failed(); }, deadline));

    CHECK_FALSE(peer.done());
    CHECK_THAT(peer.error(), Catch::Contains("step 2") && Catch::Contains("\"hello\"") &&
                                 Catch::Contains("\"help\""));
    REQUIRE(fx.run_until([&] { return rec.closed == 1; }, deadline));
}

TEST_CASE("scripted peer: repeated expects consume the input in order",
          "[transport][scripted_peer]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.expect("ab").expect("ab").send("ok");
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    rec.when_connected = [&] {
        t.write("ab");
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return peer.all_received() == "ab"; }, deadline));
    CHECK_FALSE(peer.done());
    t.write("xa");
    REQUIRE(fx.run_until([&] { return peer.all_received() == "abxa"; }, deadline));
    CHECK_FALSE(peer.done());
    t.write("b");
    REQUIRE(fx.run_until([&] { return rec.data == "ok"; }, deadline));
    CHECK(peer.done());
    CHECK_FALSE(peer.failed());
}

TEST_CASE("scripted peer: each connection runs the script from the beginning",
          "[transport][scripted_peer]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.expect("again?").send("yes");
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    rec.when_connected = [&] {
        t.write("again?");
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return rec.data == "yes"; }, deadline));
    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return rec.data == "yesyes"; }, deadline));

    CHECK(peer.connections() == 2);
    CHECK(peer.received() == std::vector<std::string>{"again?", "again?"});
    CHECK(peer.done());
}

TEST_CASE("scripted peer: stop() closes the open connections", "[transport][scripted_peer]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return rec.connected == 1 && peer.connections() == 1; }, deadline));
    peer.stop();
    REQUIRE(fx.run_until([&] { return !rec.failures.empty(); }, deadline));

    CHECK(rec.failures[0].op == "read");
}

TEST_CASE("loop fixture: run_until gives up at its deadline and run_for waits",
          "[transport][loop_fixture]") {
    LoopFixture fx;
    CHECK(fx.run_until([] { return true; }, 0ms));

    auto start = std::chrono::steady_clock::now();
    const bool held = fx.run_until([] { return false; }, 50ms);
    CHECK_FALSE(held);
    CHECK(std::chrono::steady_clock::now() - start >= 49ms);

    start = std::chrono::steady_clock::now();
    fx.run_for(50ms);
    CHECK(std::chrono::steady_clock::now() - start >= 49ms);
}
