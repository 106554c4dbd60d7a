// Config::servers against scripted peers on loopback (doc/connecting.md, "Several servers"): the
// list tried in order until one accepts, the events naming each server tried and the one in
// use, one PCJ_CONNECTFAIL per round, and the reconnect policy moving a component whose server
// went away to the next one.
#include <catch2/catch.hpp>

#include "configs.hpp"
#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "scripted_peer.hpp"
#include "scripts.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

// A port on which nothing listens: each connection to it is refused.
std::uint16_t refused_port(uv_loop_t* loop) {
    ScriptedPeer gone(loop);
    const auto port = gone.port();
    gone.stop();
    return port;
}

Config list_config(const std::vector<std::uint16_t>& ports) {
    Config cfg = j14_config(1);
    cfg.ip.clear();
    cfg.port = 0;
    for (const auto p : ports) {
        cfg.servers.push_back({"127.0.0.1", p});
    }
    return cfg;
}

// The server events in order, as "trying 0", "failed 0", "ready 2".
std::vector<std::string> server_events(const Recorder& rec) {
    std::vector<std::string> out;
    for (const auto& s : rec.seen) {
        const auto* c = std::get_if<ServerChoice>(&s.payload);
        if (c == nullptr) {
            continue;
        }
        const std::string what = s.name == un::SERVER_TRYING   ? "trying"
                                 : s.name == un::SERVER_FAILED ? "failed"
                                 : s.name == un::SERVER_READY  ? "ready"
                                                               : s.name;
        out.push_back(what + " " + std::to_string(c->index));
    }
    return out;
}

ReconnectConfig fast_policy(unsigned max_attempts = 0) {
    ReconnectConfig r;
    r.enabled = true;
    r.initial_delay = 20ms;
    r.max_delay = 40ms;
    r.max_attempts = max_attempts;
    r.uniform = [] {
        return 0.5;
    };
    return r;
}

} // namespace

TEST_CASE("servers: connect() tries the list in order until one accepts, naming each one",
          "[protocol][servers]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer);
    const auto dead1 = refused_port(f.loop());
    const auto dead2 = refused_port(f.loop());
    Component c(list_config({dead1, dead2, peer.port()}), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.count(ev::READY) == 1; }));
    CHECK(server_events(rec) == std::vector<std::string>{"trying 0", "failed 0", "trying 1",
                                                         "failed 1", "trying 2", "ready 2"});
    CHECK(rec.count(ev::CONNECTFAIL) == 0); // a round fails only when every server did
    const Seen& failed = *std::find_if(rec.seen.begin(), rec.seen.end(),
                                       [](const Seen& s) { return s.name == un::SERVER_FAILED; });
    REQUIRE(failed.reason);
    CHECK(failed.reason->op == "connect");
    const Seen& ready = *std::find_if(rec.seen.begin(), rec.seen.end(),
                                      [](const Seen& s) { return s.name == un::SERVER_READY; });
    const auto& choice = std::get<ServerChoice>(ready.payload);
    CHECK(choice.port == peer.port());
    CHECK(choice.tried == 2);
    CHECK(choice.count == 3);
    c.shutdown();
    REQUIRE(f.run_until([&] { return c.state() == State::disconnected; }));
}

TEST_CASE("servers: a round where every server is refused ends in one PCJ_CONNECTFAIL; the "
          "policy's next round starts again at the first",
          "[protocol][servers][reconnect]") {
    LoopFixture f;
    Config cfg = list_config({refused_port(f.loop()), refused_port(f.loop())});
    cfg.reconnect = fast_policy(1);
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.count(un::RECONNECT_STOPPED) == 1; }));
    CHECK(server_events(rec) == std::vector<std::string>{"trying 0", "failed 0", "trying 1",
                                                         "trying 0", "failed 0", "trying 1"});
    CHECK(rec.count(ev::CONNECTFAIL) == 2);
    CHECK(rec.count(un::RECONNECT_DELAY) == 1);
}

TEST_CASE("servers: with the reconnect policy, a component whose server goes away moves to the "
          "next server by itself",
          "[protocol][servers][reconnect]") {
    LoopFixture f;
    auto first = std::make_unique<ScriptedPeer>(f.loop());
    handshake(*first);
    ScriptedPeer second(f.loop());
    handshake(second);
    Config cfg = list_config({first->port(), second.port()});
    cfg.reconnect = fast_policy();
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.count(ev::READY) == 1; }));
    first->stop(); // the node dies: the link drops and its port refuses from now on
    REQUIRE(f.run_until([&] { return rec.count(ev::READY) == 2; }));
    CHECK(server_events(rec) == std::vector<std::string>{"trying 0", "ready 0", "trying 0",
                                                         "failed 0", "trying 1", "ready 1"});
    CHECK(second.connections() == 1);
    CHECK(rec.count(un::RECONNECT_DELAY) == 1);

    SECTION("when that one goes too, the next round starts from it and comes back round") {
        // The round starts at server 1 (the one in use), then goes round to server 0, which
        // still refuses: the round fails and the policy keeps trying.
        second.stop();
        REQUIRE(f.run_until([&] { return rec.count(ev::CONNECTFAIL) >= 1; }));
        const auto events = server_events(rec);
        REQUIRE(events.size() >= 9);
        CHECK(std::vector<std::string>(events.begin() + 6, events.begin() + 9) ==
              std::vector<std::string>{"trying 1", "failed 1", "trying 0"});
    }
    c.shutdown();
    REQUIRE(f.run_until([&] { return c.state() == State::disconnected; }));
}

TEST_CASE("servers: a server that accepts and never answers goes last in the policy's next round",
          "[protocol][servers][reconnect]") {
    LoopFixture f;
    ScriptedPeer frozen(f.loop()); // a frozen node: the kernel accepts, nothing answers
    frozen.pause(10s);
    ScriptedPeer good(f.loop());
    handshake(good);
    Config cfg = list_config({frozen.port(), good.port()});
    cfg.negotiation_timeout = 100ms;
    cfg.shutdown_timeout = 50ms;
    cfg.reconnect = fast_policy();
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.count(ev::READY) == 1; }));
    CHECK(server_events(rec) == std::vector<std::string>{"trying 0", "trying 1", "ready 1"});
    c.shutdown();
    REQUIRE(f.run_until([&] { return c.state() == State::disconnected; }));
}

TEST_CASE("servers: shutdown() while the next server is due stops the round",
          "[protocol][servers]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer);
    Component c(list_config({refused_port(f.loop()), peer.port()}), f.loop());
    Recorder rec(c);
    auto sub = c.subscribe(un::SERVER_FAILED, [&](const Event&) { c.shutdown(); });
    c.connect();
    REQUIRE(f.run_until([&] { return rec.count(un::SERVER_FAILED) == 1; }));
    f.run_for(100ms);
    CHECK(peer.connections() == 0);
    CHECK(server_events(rec) == std::vector<std::string>{"trying 0", "failed 0"});
}

TEST_CASE("servers: connect(host, port) replaces the list with that one server",
          "[protocol][servers]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer);
    Component c(list_config({refused_port(f.loop())}), f.loop());
    Recorder rec(c);
    c.connect("127.0.0.1", peer.port());
    REQUIRE(f.run_until([&] { return rec.count(ev::READY) == 1; }));
    CHECK(server_events(rec).empty()); // one server: PCJ's simple case, no server events
    CHECK(c.config().servers.empty());
    c.shutdown();
    REQUIRE(f.run_until([&] { return c.state() == State::disconnected; }));
}
