// JABBERD14_COMPONENT (XEP-0114) end to end against real Prosody, ejabberd and jabberd2 routers,
// each started on loopback by the test itself.
#include <catch2/catch.hpp>

#include "configs.hpp"
#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "servers.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

// One server per kind for the whole run: starting ejabberd costs about a second.
ServerPool servers;

Config component_config(const TestServer& s) {
    Config c = j14_config(s);
    c.connect_timeout = 3s;
    return c;
}

Node message_to_self(const Config& c, const std::string& body) {
    return build("message")
        .attr("from", c.hostname)
        .attr("to", c.hostname)
        .attr("type", "chat")
        .child(build("body").text(body));
}

const auto kinds = {ServerKind::prosody, ServerKind::ejabberd, ServerKind::jabberd2_router};

} // namespace

TEST_CASE("j14 servers: a component connects, its message comes back through NODERECEIVED "
          "and a filter, and shutdown is clean",
          "[integration][j14]") {
    const ServerKind kind = GENERATE(values(kinds));
    CAPTURE(to_string(kind));
    TestServer& s = servers.get(kind);
    LoopFixture f;
    Config cfg = component_config(s);
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.add_filter("echo", "/message[body='round trip']");
    connect_ready(f, c);
    CHECK(join(rec.names()) == "PCJ_CONNECT PCJ_CONNECTING PCJ_CONNECTED PCJ_STREAMSTART "
                               "PCJ_AUTHNEGOTIATE PCJ_AUTHSUCCESS PCJ_READY");
    CHECK(c.jid() == cfg.hostname);
    CHECK_FALSE(c.sid().empty());

    c.output(message_to_self(cfg, "round trip"));
    REQUIRE(f.run_until([&] { return rec.has("echo"); }));
    REQUIRE(f.run_until([&] { return rec.has(ev::NODERECEIVED); }));
    const Seen* echo = rec.last("echo");
    REQUIRE(echo->node);
    CHECK(echo->node->name() == "message");
    CHECK(echo->node->child("body")->text() == "round trip");

    rec.clear();
    shutdown_and_wait(f, c);
    CHECK(join(rec.names()) ==
          "PCJ_STREAMEND PCJ_SHUTDOWN_START PCJ_SOCKETDISCONNECT PCJ_SHUTDOWN_FINISH");
}

TEST_CASE("j14 servers: return_to_sender gets the server's answer to a disco#info query",
          "[integration][j14][rts]") {
    const ServerKind kind = GENERATE(values(kinds));
    CAPTURE(to_string(kind));
    TestServer& s = servers.get(kind);
    LoopFixture f;
    Config cfg = component_config(s);
    Component c(cfg, f.loop());
    Recorder rec(c);
    connect_ready(f, c);
    // A router alone has no session manager behind the domain; whatever it answers (a result
    // or an error bounced by the router), the answer must come back to the requester.
    Node iq = build("iq")
                  .attr("type", "get")
                  .attr("from", cfg.hostname)
                  .attr("to", s.get("DOMAIN"))
                  .child(build("query", "http://jabber.org/protocol/disco#info"));
    const std::string id = c.return_to_sender(iq, "disco", 5s);
    REQUIRE(f.run_until([&] { return rec.has("disco"); }, 8s));
    const Seen* reply = rec.last("disco");
    REQUIRE(reply->node); // not a timeout
    CHECK(reply->node->attr("id") == id);
    const std::string type = reply->node->attr("type");
    CHECK((type == "result" || type == "error"));
    CHECK(rec.has(ev::RTS_FINISH));
    CHECK_FALSE(rec.has(ev::NODERECEIVED));
    shutdown_and_wait(f, c);
}

TEST_CASE("j14 servers: a wrong secret ends in PCJ_AUTHFAIL and no READY",
          "[integration][j14][auth]") {
    const ServerKind kind = GENERATE(values(kinds));
    CAPTURE(to_string(kind));
    TestServer& s = servers.get(kind);
    LoopFixture f;
    Config cfg = component_config(s);
    cfg.password = "not-the-secret";
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c) && rec.has(ev::AUTHFAIL); }, 15s));
    CHECK_FALSE(rec.has(ev::READY));
    CHECK(rec.count(ev::AUTHFAIL) == 1);
    const Seen* fail = rec.last(ev::AUTHFAIL);
    REQUIRE(fail->reason);
    INFO("reason: " << fail->reason->to_string());
    CHECK_FALSE(fail->reason->condition.empty());
    CHECK(rec.count(ev::SOCKETDISCONNECT) == 1);
    CHECK(c.jid().empty());
}

TEST_CASE("j14 servers: a server killed mid-stream is PCJ_SOCKETFAIL; after its restart, "
          "reconnect and purge_queue deliver what was queued meanwhile",
          "[integration][j14][reconnect]") {
    const ServerKind kind = GENERATE(values(kinds));
    CAPTURE(to_string(kind));
    TestServer& s = servers.get(kind);
    LoopFixture f;
    Config cfg = component_config(s);
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.add_filter("echo", "/message[body='queued while down']");
    auto on_ready = c.subscribe(ev::READY, [&](const Event&) { c.purge_queue(); });
    connect_ready(f, c);

    s.kill();
    REQUIRE(f.run_until([&] { return ended(c); }, 10s));
    const Seen* fail = rec.last(ev::SOCKETFAIL);
    REQUIRE(fail);
    REQUIRE(fail->reason);
    CHECK((fail->reason->op == "read" || fail->reason->op == "write"));
    CHECK(rec.count(ev::SOCKETDISCONNECT) == 1);

    c.output(message_to_self(cfg, "queued while down"));
    CHECK(c.queue().size() == 1);

    s.restart();
    rec.clear();
    c.reconnect();
    REQUIRE(f.run_until([&] { return rec.has("echo") || ended(c); }, 15s));
    CHECK(rec.has(ev::READY));
    CHECK(rec.has("echo"));
    CHECK(c.queue().empty());
    shutdown_and_wait(f, c);
}
