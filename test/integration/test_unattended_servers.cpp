// Unattended operation against real servers that the test kills (SIGKILL) and restarts: the
// reconnect policy brings a client and a component back by itself, and what pcj guarantees a
// component (no stream management exists for XEP-0114) holds: every stanza output after the
// link was seen dead is queued and, with flush_at_ready, sent after READY — none lost, none twice.
#include <catch2/catch.hpp>

#include <map>

#include "configs.hpp"
#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "servers.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

// Servers killed here are restarted here; a pool of this file's own keeps others out of it.
ServerPool servers;

ReconnectConfig quick_policy() {
    ReconnectConfig r;
    r.enabled = true;
    r.initial_delay = 100ms;
    r.max_delay = 400ms;
    return r;
}

Node numbered(const Config& c, int n) {
    return build("message")
        .attr("from", c.hostname)
        .attr("to", c.hostname)
        .attr("type", "chat")
        .child(build("body").text("n" + std::to_string(n)));
}

} // namespace

TEST_CASE("unattended servers: an XMPP client comes back by itself after the server is killed",
          "[integration][unattended]") {
    TestServer& s = servers.get(ServerKind::prosody);
    LoopFixture f;
    Config cfg = c2s_config(s, ConnectionType::XMPP, "soak");
    cfg.reconnect = quick_policy();
    cfg.connect_timeout = 2s;
    Component c(cfg, f.loop());
    Recorder rec(c);
    connect_ready(f, c);
    s.kill();
    REQUIRE(f.run_until([&] { return rec.has(un::RECONNECT_DELAY); }, 20s));
    CHECK_FALSE(c.ready());
    s.restart();
    REQUIRE(f.run_until([&] { return rec.count(ev::READY) == 2; }, 30s));
    CHECK(rec.count(un::RECONNECT_STOPPED) == 0);
    c.shutdown();
    REQUIRE(f.run_until([&] { return c.state() == State::disconnected; }));
}

TEST_CASE("unattended servers: a component loses nothing output while its link is dead, "
          "through several server kills",
          "[integration][unattended][j14]") {
    const ServerKind kind =
        GENERATE(ServerKind::prosody, ServerKind::ejabberd, ServerKind::jabberd2_router);
    CAPTURE(to_string(kind));
    TestServer& s = servers.get(kind);
    LoopFixture f;
    Config cfg = j14_config(s);
    cfg.connect_timeout = 2s;
    cfg.reconnect = quick_policy();
    cfg.queue.flush_at_ready = true;
    Component c(cfg, f.loop());
    Recorder rec(c);
    std::map<int, int> arrived; // number → times received
    auto echo = c.subscribe(ev::NODERECEIVED, [&](const Event& e) {
        if (const Node* body = e.node->child("body")) {
            arrived[std::stoi(body->text().substr(1))]++;
        }
    });
    std::map<int, std::vector<Delivery>> outcomes;
    int next = 0;
    const auto send = [&](int n) {
        c.output(numbered(cfg, n),
                 [&outcomes, n](const Outcome& o) { outcomes[n].push_back(o.status); });
    };
    connect_ready(f, c);
    constexpr int rounds = 4;
    constexpr int per_round = 5;
    for (int round = 0; round < rounds; ++round) {
        CAPTURE(round);
        // While READY: written at once, and back through the server before the kill.
        for (int i = 0; i < per_round; ++i) {
            send(next++);
        }
        REQUIRE(f.run_until([&] { return static_cast<int>(arrived.size()) == next; }, 10s));
        s.kill();
        // The link is seen dead: from here on nothing may be lost.
        REQUIRE(f.run_until([&] { return !c.ready(); }, 10s));
        for (int i = 0; i < per_round; ++i) {
            send(next++);
        }
        CHECK(c.queue().size() == static_cast<std::size_t>(per_round));
        s.restart();
        REQUIRE(f.run_until([&] { return static_cast<int>(arrived.size()) == next; }, 30s));
        CHECK(c.queue().empty());
    }
    f.run_for(200ms); // a duplicate would arrive now
    for (int n = 0; n < next; ++n) {
        CAPTURE(n);
        CHECK(arrived[n] == 1);
        REQUIRE_FALSE(outcomes[n].empty());
        CHECK(outcomes[n].back() == Delivery::sent);
    }
    CHECK(rec.count(ev::READY) == rounds + 1);
    CHECK(rec.count(un::RECONNECT_STOPPED) == 0);
    c.shutdown();
    REQUIRE(f.run_until([&] { return c.state() == State::disconnected; }));
}
