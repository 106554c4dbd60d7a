// Tests for the TCP transport: connecting, reading and aborting. Everything is on loopback;
// every wait has a deadline.
#include <catch2/catch.hpp>

#include "transport_harness.hpp"

using namespace transport_test;

// ---------------------------------------------------------------------------------------------
// Connecting

TEST_CASE("transport: connects to a peer and exchanges bytes both ways", "[transport][connect]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.expect("hello").send("world").expect("bye");
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    t.write("ignored: not connected yet");
    CHECK(t.buffered() == 0);
    rec.when_connected = [&] {
        t.write("hello");
    };
    rec.when_data = [&](std::string_view) {
        if (rec.data == "world") {
            t.write("bye");
        }
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return peer.done() && t.buffered() == 0; }, deadline));

    CHECK(rec.resolving == "127.0.0.1");
    CHECK(rec.resolved == std::vector<std::string>{"127.0.0.1"});
    REQUIRE(rec.connecting.size() == 1);
    CHECK(rec.connecting[0].address == "127.0.0.1");
    CHECK(rec.connecting[0].family == 4);
    CHECK(rec.connecting[0].port == peer.port());
    CHECK(rec.data == "world");
    CHECK(peer.all_received() == "hellobye");
    CHECK(t.connected());
    CHECK(t.bytes_read() == 5);
    CHECK(t.bytes_written() == 8);
    CHECK(rec.failures.empty());
    CHECK(rec.events.at(0) == "resolving");
    CHECK(rec.events.at(1) == "resolved");
    CHECK(rec.events.at(2) == "connecting");
    CHECK(rec.events.at(3) == "connected");
}

TEST_CASE("transport: a refused connection ends in on_failure op connect with ECONNREFUSED",
          "[transport][connect]") {
    LoopFixture fx;
    const LoopbackSocket closed_port(AF_INET, 0); // bound, not listening: connections are refused
    REQUIRE(closed_port.bound());
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());

    t.connect("127.0.0.1", closed_port.port(), 2s);
    REQUIRE(fx.run_until([&] { return !rec.failures.empty(); }, deadline));

    CHECK(rec.connecting.size() == 1);
    REQUIRE(rec.failures.size() == 1);
    CHECK(rec.failures[0].op == "connect");
    CHECK(rec.failures[0].code == ECONNREFUSED);
    CHECK(rec.failures[0].text == "connection refused");
    CHECK(rec.connected == 0);
    CHECK_FALSE(t.connected());
}

// No name here resolves to both ::1 and 127.0.0.1 (/etc/hosts has only 127.0.0.1 localhost), so
// the two-address case uses the empty host: this machine's loopback addresses, ::1 then 127.0.0.1.
TEST_CASE("transport: when the first address refuses, the next one is tried and connects",
          "[transport][connect]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());                         // 127.0.0.1:port
    const LoopbackSocket refusing(AF_INET6, peer.port()); // ::1:port, bound but not listening
    REQUIRE(refusing.bound());
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());

    t.connect("", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return rec.connected == 1 || !rec.failures.empty(); }, deadline));

    CHECK(rec.resolved == std::vector<std::string>{"::1", "127.0.0.1"});
    REQUIRE(rec.connecting.size() == 2);
    CHECK(rec.connecting[0].address == "::1");
    CHECK(rec.connecting[0].family == 6);
    CHECK(rec.connecting[1].address == "127.0.0.1");
    CHECK(rec.connecting[1].family == 4);
    CHECK(rec.connected == 1);
    CHECK(rec.failures.empty());
    REQUIRE(fx.run_until([&] { return peer.connections() == 1; }, deadline));
}

TEST_CASE("transport: a connect that gets no answer fails with ETIMEDOUT after the timeout",
          "[transport][connect][timeout]") {
    LoopFixture fx;
    LoopbackSocket silent(AF_INET, 0);
    REQUIRE(silent.bound());
    REQUIRE(silent.listen_and_fill());
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());

    const auto start = std::chrono::steady_clock::now();
    t.connect("127.0.0.1", silent.port(), 200ms);
    REQUIRE(fx.run_until([&] { return !rec.failures.empty(); }, deadline));
    const auto elapsed = std::chrono::steady_clock::now() - start;

    CHECK(rec.connecting.size() == 1);
    REQUIRE(rec.failures.size() == 1);
    CHECK(rec.failures[0].op == "connect");
    CHECK(rec.failures[0].code == ETIMEDOUT);
    CHECK(elapsed >= 195ms);
    CHECK(rec.connected == 0);
}

TEST_CASE("transport: an address that times out is left for the next one",
          "[transport][connect][timeout]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    LoopbackSocket silent(AF_INET6, peer.port());
    REQUIRE(silent.bound());
    REQUIRE(silent.listen_and_fill());
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());

    t.connect("", peer.port(), 200ms);
    REQUIRE(fx.run_until([&] { return rec.connected == 1 || !rec.failures.empty(); }, deadline));

    REQUIRE(rec.connecting.size() == 2);
    CHECK(rec.connecting[0].address == "::1");
    CHECK(rec.connecting[1].address == "127.0.0.1");
    CHECK(rec.connected == 1);
    CHECK(rec.failures.empty());
}

// "nonexistent.invalid" would send a DNS query off this machine; a name with spaces is refused
// by the resolver library itself, so the failure stays local.
TEST_CASE("transport: a name that does not resolve ends in on_failure op resolve",
          "[transport][connect]") {
    LoopFixture fx;
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());

    t.connect("no such host.invalid", 5222, 2s);
    REQUIRE(fx.run_until([&] { return !rec.failures.empty(); }, deadline));

    CHECK(rec.resolving == "no such host.invalid");
    CHECK(rec.resolved.empty());
    CHECK(rec.connecting.empty());
    REQUIRE(rec.failures.size() == 1);
    CHECK(rec.failures[0].op == "resolve");
    CHECK(rec.failures[0].code != 0);
    CHECK_FALSE(rec.failures[0].text.empty());
}

TEST_CASE("transport: a second connect drops the first connection without a callback",
          "[transport][connect]") {
    LoopFixture fx;
    ScriptedPeer first(fx.loop());
    first.wait_close();
    ScriptedPeer second(fx.loop());
    second.send("second");
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());

    t.connect("127.0.0.1", first.port(), 2s);
    REQUIRE(fx.run_until([&] { return rec.connected == 1; }, deadline));
    t.connect("127.0.0.1", second.port(), 2s);
    REQUIRE(fx.run_until([&] { return first.done() && rec.data == "second"; }, deadline));

    CHECK(first.client_closed());
    CHECK(rec.connected == 2);
    CHECK(rec.failures.empty());
    CHECK(rec.closed == 0);
}

// ---------------------------------------------------------------------------------------------
// Reading

TEST_CASE("transport: end of file from the peer is on_failure op read with code 0",
          "[transport][read]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.send("last words").close();
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return !rec.failures.empty(); }, deadline));

    CHECK(rec.data == "last words");
    REQUIRE(rec.failures.size() == 1);
    CHECK(rec.failures[0].op == "read");
    CHECK(rec.failures[0].code == 0);
    CHECK(rec.failures[0].text == "end of file");
    CHECK_FALSE(t.connected());
    REQUIRE(fx.run_until([&] { return peer.client_closed(); }, deadline));
}

TEST_CASE("transport: a reset from the peer is on_failure op read with ECONNRESET",
          "[transport][read]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.expect("ping").reset();
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    rec.when_connected = [&] {
        t.write("ping");
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return !rec.failures.empty(); }, deadline));

    REQUIRE(rec.failures.size() == 1);
    CHECK(rec.failures[0].op == "read");
    CHECK(rec.failures[0].code == ECONNRESET);
}

TEST_CASE("transport: abort() inside on_data stops every further callback", "[transport][abort]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.send("first").pause(100ms).send("second");
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    rec.when_data = [&](std::string_view) {
        t.write(patterned_bytes(8 * 1024 * 1024)); // still in flight when abort() comes
        t.abort();
        t.write("ignored: aborted");
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return peer.client_closed(); }, deadline));
    const std::size_t events = rec.events.size();
    fx.run_for(250ms);

    CHECK(rec.data == "first");
    CHECK(rec.data_calls == 1);
    CHECK(rec.events.size() == events);
    for (const Reason& r : rec.failures) {
        FAIL_CHECK("unexpected failure: " << r.op << " " << r.code << " " << r.text);
    }
    CHECK(rec.closed == 0);
    CHECK_FALSE(t.connected());
    CHECK(t.buffered() == 0);
    CHECK(peer.done());
}

TEST_CASE("transport: an exception thrown by on_data becomes on_failure, not a crash",
          "[transport][read]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.send("x").wait_close();
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    rec.when_data = [](std::string_view) {
        throw std::runtime_error("boom");
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return !rec.failures.empty() && peer.done(); }, deadline));

    REQUIRE(rec.failures.size() == 1);
    CHECK(rec.failures[0].op == "read");
    CHECK(rec.failures[0].code == EIO);
    CHECK_THAT(rec.failures[0].text, Catch::Contains("boom"));
    CHECK_FALSE(t.connected());
}
