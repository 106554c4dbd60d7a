// The thread-safe door: other threads hand stanzas and closures to a live component.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "configs.hpp"
#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "scripted_peer.hpp"
#include "scripts.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

// "<m t='T' n='N'/>" markers, checked per thread in the bytes the peer received.
bool per_thread_order_complete(const std::string& wire, int threads, int per_thread,
                               std::string& why) {
    std::vector<int> next(static_cast<std::size_t>(threads), 0);
    std::size_t pos = 0;
    while ((pos = wire.find("<m t=\"", pos)) != std::string::npos) {
        const int t = std::atoi(wire.c_str() + pos + 6);
        const std::size_t n_at = wire.find("n=\"", pos);
        const int n = std::atoi(wire.c_str() + n_at + 3);
        if (t < 0 || t >= threads || n != next[static_cast<std::size_t>(t)]) {
            why = "thread " + std::to_string(t) + ": got " + std::to_string(n) + ", expected " +
                  std::to_string(t >= 0 && t < threads ? next[static_cast<std::size_t>(t)] : -1);
            return false;
        }
        ++next[static_cast<std::size_t>(t)];
        pos = n_at;
    }
    for (int t = 0; t < threads; ++t) {
        if (next[static_cast<std::size_t>(t)] != per_thread) {
            why = "thread " + std::to_string(t) + " delivered " +
                  std::to_string(next[static_cast<std::size_t>(t)]);
            return false;
        }
    }
    return true;
}

} // namespace

TEST_CASE("door: four threads submit 100,000 stanzas each; all arrive in per-thread order",
          "[protocol][door]") {
    constexpr int threads = 4;
    constexpr int per_thread = 100'000;
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(component_header)
        .expect("<handshake>")
        .send("<handshake/>")
        .expect("<m t=\"0\" n=\"99999\"/>"); // keeps the connection open while data flows
    Component c(j14_config(peer.port()), f.loop());
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready(); }));

    std::atomic<int> finished{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&c, &finished, t] {
            for (int n = 0; n < per_thread; ++n) {
                Node m("m");
                m.set_attr("t", std::to_string(t));
                m.set_attr("n", std::to_string(n));
                c.submit(std::move(m));
            }
            ++finished;
        });
    }
    const std::size_t expected_bytes = [&] {
        std::size_t total = 0;
        for (int t = 0; t < threads; ++t) {
            for (int n = 0; n < per_thread; ++n) {
                total += std::string("<m t=\"\" n=\"\"/>").size() + std::to_string(t).size() +
                         std::to_string(n).size();
            }
        }
        return total;
    }();
    auto received_markers = [&] {
        const auto& r = peer.received();
        return r.empty() ? std::size_t{0} : r[0].size();
    };
    REQUIRE(f.run_until([&] { return finished == threads && received_markers() >= expected_bytes; },
                        60s));
    for (auto& w : workers) {
        w.join();
    }
    std::string why;
    const bool ordered = per_thread_order_complete(peer.received()[0], threads, per_thread, why);
    INFO(why);
    CHECK(ordered);
    c.shutdown();
    REQUIRE(f.run_until([&] { return c.state() == State::disconnected; }));
}

TEST_CASE("door: a closure posted from another thread runs on the loop thread",
          "[protocol][door]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    Component c(j14_config(peer.port()), f.loop());
    const auto loop_thread = std::this_thread::get_id();
    std::atomic<bool> ran{false};
    bool on_loop_thread = false;
    std::thread other([&] {
        c.post([&](Component& self) {
            on_loop_thread = std::this_thread::get_id() == loop_thread;
            CHECK(&self == &c);
            ran = true;
        });
    });
    other.join();
    REQUIRE(f.run_until([&] { return ran.load(); }));
    CHECK(on_loop_thread);
}

TEST_CASE("door: a posted task that throws is logged and the next ones still run",
          "[protocol][door]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    Component c(j14_config(peer.port()), f.loop());
    std::vector<std::string> errors;
    c.set_logger([&](LogLevel level, std::string_view, std::string_view line) {
        if (level == LogLevel::error) {
            errors.emplace_back(line);
        }
    });
    bool second = false;
    c.post([](Component&) { throw std::runtime_error("boom"); });
    c.post([&](Component&) { second = true; });
    REQUIRE(f.run_until([&] { return second; }));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("boom") != std::string::npos);
}
