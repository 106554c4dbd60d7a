// Session state (doc/session.md) and own presence against a scripted server (the roster is in
// test_roster.cpp); and the event queue drained by another thread during a live login (the
// [door] suite runs it under TSan).
#include <catch2/catch.hpp>

#include <algorithm>
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

Node presence(int priority = 0) {
    Node p("presence");
    if (priority != 0) {
        p.add_child("priority").set_text(std::to_string(priority));
    }
    return p;
}

} // namespace

// -- fields and predicates -----------------------------------------------------------------------

TEST_CASE("session: an XMPP login fills type, username, host, resource and full JID in turn",
          "[protocol][session][fields]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    xmpp_login(peer, "User@localhost/res-from-server");
    Component c(xmpp_config(peer.port()), f.loop());
    const Session& s = c.session();
    CHECK(s.type() == "c2s_unauthed");
    CHECK_FALSE(s.open());
    struct Snapshot {
        std::string type, username, host, full_jid;
        bool open = false;
    };
    auto snap = [&] {
        return Snapshot{std::string(s.type()), s.username(), s.host(), s.full_jid(), s.open()};
    };
    Snapshot at_auth_negotiate, at_auth_success, at_bind;
    auto s1 = c.subscribe(ev::AUTHNEGOTIATE, [&](const Event&) { at_auth_negotiate = snap(); });
    auto s2 = c.subscribe(ev::AUTHSUCCESS, [&](const Event&) { at_auth_success = snap(); });
    auto s3 = c.subscribe(ev::BINDSUCCESS, [&](const Event&) { at_bind = snap(); });
    connect_ready(f, c);

    CHECK(at_auth_negotiate.type == "c2s_unauthed");
    CHECK(at_auth_negotiate.open);
    CHECK(at_auth_negotiate.host == "localhost"); // the server header's 'from'
    CHECK(at_auth_negotiate.username.empty());
    CHECK(at_auth_success.type == "c2s");
    CHECK(at_auth_success.username == "user"); // the configured one, until bind says more
    CHECK(at_auth_success.full_jid.empty());
    CHECK(at_bind.full_jid == "User@localhost/res-from-server");

    CHECK(s.username() == "User"); // the bound JID is authoritative
    CHECK(s.host() == "localhost");
    CHECK(s.resource() == "res-from-server");
    CHECK(s.full_jid() == c.jid());
    CHECK(s.priority() == 0);
    CHECK_FALSE(s.presence());
    CHECK_FALSE(s.interested());
    CHECK(s.roster().empty());
    CHECK(s.open());
    CHECK(s.connected_resource());
    CHECK_FALSE(s.available_resource());
    CHECK_FALSE(s.interested_resource());

    shutdown_and_wait(f, c);
    // Gone: no longer a connected resource; what was learnt of the account stays readable.
    CHECK_FALSE(s.open());
    CHECK_FALSE(s.connected_resource());
    CHECK(s.full_jid().empty());
    CHECK(s.type() == "c2s");
    CHECK(s.username() == "User");
}

TEST_CASE("session: the host falls back to the configured domain when the header has no 'from'",
          "[protocol][session][fields]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
              "xmlns:stream='http://etherx.jabber.org/streams' id='s1' version='1.0'>")
        .wait_close();
    Component c(xmpp_config(peer.port()), f.loop());
    c.connect();
    REQUIRE(f.run_until([&] { return c.session().open(); }));
    CHECK(c.session().host() == "localhost");
    c.abort(Reason{"test", 0, "done", "end of test"});
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK_FALSE(c.session().open());
}

TEST_CASE("session: a LEGACY login is c2s with the JID it logged in with",
          "[protocol][session][fields]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
              "xmlns:stream='http://etherx.jabber.org/streams' id='legacy1' from='localhost'>")
        .expect("</query></iq>")
        .send("<iq type='result' id='$ID'><query xmlns='jabber:iq:auth'>"
              "<username/><password/><resource/></query></iq>")
        .expect("<resource>res</resource></query></iq>")
        .send("<iq type='result' id='$ID'/>");
    Config cfg = xmpp_config(peer.port());
    cfg.connection_type = ConnectionType::LEGACY;
    Component c(cfg, f.loop());
    connect_ready(f, c);
    const Session& s = c.session();
    CHECK(s.type() == "c2s");
    CHECK(s.username() == "user");
    CHECK(s.host() == "localhost");
    CHECK(s.resource() == "res");
    CHECK(s.full_jid() == "user@localhost/res");
    CHECK(s.connected_resource());
}

TEST_CASE("session: a XEP-0114 component is 'component' once the handshake is accepted",
          "[protocol][session][fields]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer);
    Component c(j14_config(peer.port(), Config{}.shutdown_timeout), f.loop());
    const Session& s = c.session();
    CHECK(s.type() == "component_unauthed");
    std::string type_while_negotiating;
    auto sub = c.subscribe(ev::AUTHNEGOTIATE,
                           [&](const Event&) { type_while_negotiating = c.session().type(); });
    connect_ready(f, c);
    CHECK(type_while_negotiating == "component_unauthed");
    CHECK(s.type() == "component");
    CHECK(s.username().empty());
    CHECK(s.host() == "component.localhost");
    CHECK(s.full_jid() == "component.localhost");
    CHECK(s.resource().empty());
    CHECK(s.connected_resource());
    CHECK_THROWS_AS(c.request_roster(), StateError);
}

TEST_CASE("session: a jabberd2 component's address is its bound domain",
          "[protocol][session][fields]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    j2_login(peer);
    Config cfg = xmpp_config(peer.port());
    cfg.connection_type = ConnectionType::JABBERD20_COMPONENT;
    Component c(cfg, f.loop());
    std::string type_at_auth;
    auto sub =
        c.subscribe(ev::AUTHSUCCESS, [&](const Event&) { type_at_auth = c.session().type(); });
    connect_ready(f, c);
    CHECK(type_at_auth == "component");
    CHECK(c.session().full_jid() == "user.localhost");
    CHECK(c.session().host() == "user.localhost");
    CHECK(c.session().username().empty());
}

TEST_CASE("session: the roster option is refused for components", "[protocol][session][config]") {
    Config cfg;
    cfg.connection_type = ConnectionType::JABBERD14_COMPONENT;
    cfg.ip = "127.0.0.1";
    cfg.port = 5347;
    cfg.hostname = "component.localhost";
    cfg.password = "test";
    cfg.roster_fetch = true;
    CHECK_THROWS_AS(cfg.validate_and_complete(), ConfigError);
    cfg.connection_type = ConnectionType::LEGACY;
    cfg.username = "user";
    CHECK_NOTHROW(cfg.validate_and_complete());
}

// -- presence
// --------------------------------------------------------------------------------------

TEST_CASE("session: the last undirected presence sent is the session's; unavailable resets it",
          "[protocol][session][presence]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    xmpp_login(peer).expect("type=\"unavailable\"/>");
    Component c(xmpp_config(peer.port()), f.loop());
    connect_ready(f, c);
    const Session& s = c.session();

    c.output(presence(5));
    REQUIRE(s.presence());
    CHECK(s.presence()->child("priority")->text() == "5");
    CHECK(s.priority() == 5);
    CHECK(s.available_resource());

    Node directed = presence(-3);
    directed.set_attr("to", "room@conference.localhost/nick");
    c.output(directed);
    CHECK(s.priority() == 5); // directed presence says nothing about the session's own
    CHECK_FALSE(s.presence()->has_attr("to"));

    Node subscribe("presence");
    subscribe.set_attr("type", "subscribe");
    subscribe.set_attr("to", "romeo@example.net");
    c.output(subscribe);
    CHECK(s.available_resource());

    Node away = presence(-128);
    away.add_child("show").set_text("away");
    c.output(away);
    CHECK(s.priority() == -128);
    CHECK(s.presence()->child("show") != nullptr);

    c.output(presence()); // no <priority/>: the default
    CHECK(s.priority() == 0);
    c.output(presence(9));
    Node gone("presence");
    gone.set_attr("type", "unavailable");
    c.output(gone);
    CHECK_FALSE(s.presence());
    CHECK(s.priority() == 0);
    CHECK_FALSE(s.available_resource());
    CHECK(s.connected_resource());
    REQUIRE(f.run_until([&] { return peer.done(); }));
}

TEST_CASE("session: a priority outside -128..127 or not a number counts as 0",
          "[protocol][session][presence]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    xmpp_login(peer);
    Component c(xmpp_config(peer.port()), f.loop());
    connect_ready(f, c);
    for (const char* text : {"128", "-129", "high", "", "7x"}) {
        Node p("presence");
        p.add_child("priority").set_text(text);
        c.output(p);
        INFO(text);
        CHECK(c.session().priority() == 0);
        CHECK(c.session().available_resource()); // still an available presence
    }
    Node p("presence");
    p.add_child("priority").set_text("+12");
    c.output(p);
    CHECK(c.session().priority() == 12);
}

TEST_CASE("session: presence queued before READY counts only once it is written",
          "[protocol][session][presence]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    xmpp_login(peer).expect("<priority>4</priority>");
    Component c(xmpp_config(peer.port()), f.loop());
    c.output(presence(4));
    CHECK_FALSE(c.session().presence());
    auto sub = c.subscribe(ev::READY, [&](const Event&) { c.purge_queue(); });
    c.connect();
    REQUIRE(f.run_until([&] { return peer.done() || ended(c); }));
    CHECK(c.session().priority() == 4);
    CHECK(c.session().available_resource());
}

TEST_CASE("session: send() and close() are output() and shutdown()",
          "[protocol][session][methods]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    xmpp_login(peer).expect("<body>through the session</body>").expect("</stream:stream>").close();
    Component c(xmpp_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    c.session().send(build("message")
                         .attr("to", "romeo@example.net")
                         .child(build("body").text("through the session")));
    c.session().close(Reason{"app", 0, "done", "finished"});
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK(peer.done());
    const Seen* start = rec.last(ev::SHUTDOWN_START);
    REQUIRE(start);
    REQUIRE(start->reason);
    CHECK(start->reason->condition == "done");
}

// -- the event queue, drained by another thread
// ----------------------------------------------------

TEST_CASE("session: another thread follows a login through the event queue and answers READY",
          "[protocol][session][event_queue][door]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    xmpp_login(peer).expect("<priority>1</priority>");
    Component c(xmpp_config(peer.port()), f.loop());
    EventQueue q(1024);
    auto attached =
        q.attach(c, {ev::CONNECTED, ev::AUTHSUCCESS, ev::BINDSUCCESS, ev::READY, ev::NODESENT});
    const std::uint64_t expected_id = c.id(); // read here: only the door is for other threads
    std::vector<std::string> names;
    std::uint64_t component_id = 0;
    std::uint64_t connection_id = 0;
    std::atomic<bool> reader_done{false};
    std::thread reader([&] {
        while (auto r = q.pop(10s)) {
            names.push_back(r->name);
            component_id = r->component_id;
            connection_id = r->connection_id;
            if (r->name == ev::READY) {
                Node p("presence");
                p.add_child("priority").set_text("1");
                c.submit(p); // the door: written on the loop thread
            }
            if (r->name == ev::NODESENT && r->node && r->node->name() == "presence") {
                break;
            }
        }
        reader_done = true;
    });
    c.connect();
    const bool finished = f.run_until([&] { return reader_done.load() || ended(c); });
    if (!finished) {
        q.close(); // let the reader go before failing
    }
    reader.join();
    REQUIRE(finished);
    CHECK(component_id == expected_id);
    CHECK(connection_id == c.connection_id());
    std::vector<std::string> status;
    for (const auto& n : names) {
        if (n != ev::NODESENT) {
            status.push_back(n);
        }
    }
    CHECK(join(status) == "PCJ_CONNECTED PCJ_AUTHSUCCESS PCJ_BINDSUCCESS PCJ_READY");
    CHECK(names.back() == ev::NODESENT);
    REQUIRE(f.run_until([&] { return peer.done(); }));
    CHECK(c.session().priority() == 1);
    CHECK(q.dropped() == 0);
    attached.cancel();
}
