// Tests for the TCP transport: writing and closing. Everything is on loopback; every wait has a
// deadline.
#include <catch2/catch.hpp>

#include "transport_harness.hpp"

using namespace transport_test;

// ---------------------------------------------------------------------------------------------
// Writing

TEST_CASE("transport: a large write arrives complete and in order, then on_drain",
          "[transport][write]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    const std::string bytes = patterned_bytes(8 * 1024 * 1024);
    std::size_t buffered_after_write = 0;
    std::size_t buffered_at_drain = 1;
    rec.when_connected = [&] {
        t.write(bytes);
        buffered_after_write = t.buffered();
    };
    rec.when_drained = [&] {
        buffered_at_drain = t.buffered();
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until(
        [&] { return rec.drains > 0 && peer.all_received().size() >= bytes.size(); }, deadline));

    CHECK(buffered_after_write == bytes.size());
    CHECK(buffered_at_drain == 0);
    CHECK(rec.drains == 1);
    CHECK(t.bytes_written() == bytes.size());
    CHECK(peer.all_received() == bytes);
    CHECK(rec.failures.empty());
}

TEST_CASE("transport: on_sent reports every completed write before on_drain, and the counters "
          "agree",
          "[transport][write]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    const std::string big = patterned_bytes(4 * 1024 * 1024);
    std::uint64_t queued_after_writes = 0;
    rec.when_connected = [&] {
        t.write(big);
        t.write("tail one");
        t.write("tail two");
        queued_after_writes = t.bytes_queued();
    };
    t.connect("127.0.0.1", peer.port(), 2s);
    const std::size_t expected = big.size() + 16;
    REQUIRE(fx.run_until([&] { return rec.drains > 0; }, deadline));
    CHECK(queued_after_writes == expected);
    std::uint64_t sum = 0;
    for (const std::size_t n : rec.sent) {
        sum += n;
    }
    CHECK(sum == expected);
    CHECK(t.bytes_written() == expected);
    CHECK(t.bytes_queued() == expected);
    CHECK(rec.sent.size() >= 2); // the big write, then the coalesced tails
    CHECK(rec.drains_after_sent == rec.drains);
}

TEST_CASE("transport: many small writes are coalesced and arrive in order", "[transport][write]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    constexpr int count = 200000;
    std::string expected;
    std::chrono::steady_clock::duration spent{};
    rec.when_connected = [&] {
        std::vector<std::string> lines;
        lines.reserve(count);
        for (int i = 0; i < count; ++i) {
            lines.push_back("<m n='" + std::to_string(i) + "'/>");
            expected += lines.back();
        }
        const auto start = std::chrono::steady_clock::now();
        for (std::string& line : lines) {
            t.write(std::move(line));
        }
        spent = std::chrono::steady_clock::now() - start;
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until(
        [&] { return rec.drains > 0 && peer.all_received().size() >= expected.size(); }, deadline));

    CHECK(peer.all_received() == expected);
    CHECK(t.buffered() == 0);
    CHECK(t.bytes_written() == expected.size());
    // Coalesced: the first write goes out at once, the rest in one batch, so one drain.
    CHECK(rec.drains == 1);
    // A generous bound (sanitizers, a busy machine): 200,000 writes must stay cheap.
    CHECK(spent < 2s);
}

// ---------------------------------------------------------------------------------------------
// Closing

TEST_CASE("transport: close() flushes what is buffered and calls on_closed once",
          "[transport][close]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.wait_close();
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    const std::string bytes = patterned_bytes(4 * 1024 * 1024);
    rec.when_connected = [&] {
        t.write(bytes);
        t.close();
        t.write("ignored: closing");
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return rec.closed > 0 && peer.done(); }, deadline));
    fx.run_for(50ms);

    CHECK(rec.closed == 1);
    CHECK(peer.all_received() == bytes);
    CHECK(rec.failures.empty());
    CHECK(rec.drains == 0);
    CHECK_FALSE(t.connected());
    CHECK(t.buffered() == 0);
}

TEST_CASE("transport: close() from inside on_data closes gracefully", "[transport][close]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.send("</stream:stream>").wait_close();
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    rec.when_data = [&](std::string_view) {
        t.write("</stream:stream>");
        t.close();
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return rec.closed > 0 && peer.done(); }, deadline));

    CHECK(rec.closed == 1);
    CHECK(peer.all_received() == "</stream:stream>");
    CHECK(rec.failures.empty());
}

TEST_CASE("transport: close() while resolving calls on_closed once and nothing else",
          "[transport][close]") {
    LoopFixture fx;
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());

    t.connect("localhost", 5222, 2s);
    t.close();
    CHECK(rec.closed == 0); // never from inside the call
    REQUIRE(fx.run_until([&] { return rec.closed > 0; }, deadline));
    fx.run_for(100ms);

    CHECK(rec.closed == 1);
    CHECK(rec.events == std::vector<std::string>{"resolving", "closed"});
}

TEST_CASE("transport: destroying it with a connection under way gives no callback and no leak",
          "[transport][lifetime]") {
    LoopFixture fx;
    Recorder rec;
    auto t = std::make_unique<Transport>(fx.loop(), rec.callbacks());

    SECTION("while resolving") {
        t->connect("localhost", 5222, 2s);
        t.reset();
    }
    SECTION("while the TCP handshake is unanswered") {
        LoopbackSocket silent(AF_INET, 0);
        REQUIRE(silent.bound());
        REQUIRE(silent.listen_and_fill());
        t->connect("127.0.0.1", silent.port(), 0ms);
        REQUIRE(fx.run_until([&] { return !rec.connecting.empty(); }, deadline));
        fx.run_for(50ms);
        t.reset();
    }
    SECTION("while a large write is in flight") {
        ScriptedPeer peer(fx.loop());
        t->connect("127.0.0.1", peer.port(), 2s);
        REQUIRE(fx.run_until([&] { return rec.connected == 1; }, deadline));
        t->write(patterned_bytes(8 * 1024 * 1024));
        t.reset();
    }
    const std::size_t events = rec.events.size();
    fx.run_for(100ms);

    CHECK(rec.events.size() == events);
    CHECK(rec.failures.empty());
    // LoopFixture's destructor checks that every handle closed and uv_loop_close succeeds.
}
