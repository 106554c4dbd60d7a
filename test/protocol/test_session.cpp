// Session state (seeds/002), roster and own presence against a scripted server; and the event
// queue drained by another thread during a live login (the [door] suite runs it under TSan).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <thread>

#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "scripted_peer.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

const std::string header =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>";
const std::string plain_only =
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
    "<mechanism>PLAIN</mechanism></mechanisms></stream:features>";
const std::string bind_features =
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";
const std::string roster_result =
    "<iq type='result' id='$ID'><query xmlns='jabber:iq:roster' ver='v1'>"
    "<item jid='romeo@example.net' name='Romeo' subscription='both'>"
    "<group>Friends</group><group>Lovers</group></item>"
    "<item jid='nurse@example.com' subscription='none' ask='subscribe'/>"
    "</query></iq>";

Config client_config(std::uint16_t port) {
    Config c;
    c.connection_type = ConnectionType::XMPP;
    c.ip = "127.0.0.1";
    c.port = port;
    c.hostname = "localhost";
    c.username = "user";
    c.password = "pass";
    c.resource = "res";
    c.tls.policy = TlsPolicy::disabled;
    c.sasl.allow_plaintext_password = true;
    c.shutdown_timeout = 1s;
    return c;
}

// A whole login, up to READY; the server assigns `jid`.
ScriptedPeer& login(ScriptedPeer& peer, const std::string& jid = "user@localhost/res") {
    return peer.expect("<stream:stream")
        .send(header + plain_only)
        .expect("</auth>")
        .send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
        .expect("<stream:stream")
        .send(header + bind_features)
        .expect("</bind></iq>")
        .send("<iq type='result' id='$ID'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>" +
              jid + "</jid></bind></iq>");
}

ScriptedPeer& with_roster(ScriptedPeer& peer) {
    return peer.expect("jabber:iq:roster").send(roster_result);
}

std::string push(const std::string& id, const std::string& item, const std::string& from = {},
                 const std::string& ver = "v2") {
    return "<iq type='set' id='" + id + "'" + (from.empty() ? "" : " from='" + from + "'") +
           "><query xmlns='jabber:iq:roster' ver='" + ver + "'>" + item + "</query></iq>";
}

bool ended(const Component& c) {
    return c.state() == State::disconnected;
}

bool received(const ScriptedPeer& peer, const std::string& text) {
    return peer.all_received().find(text) != std::string::npos;
}

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
    login(peer, "User@localhost/res-from-server");
    Component c(client_config(peer.port()), f.loop());
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
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    REQUIRE(c.ready());

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

    c.shutdown();
    REQUIRE(f.run_until([&] { return ended(c); }));
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
    Component c(client_config(peer.port()), f.loop());
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
    Config cfg = client_config(peer.port());
    cfg.connection_type = ConnectionType::LEGACY;
    Component c(cfg, f.loop());
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    REQUIRE(c.ready());
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
    peer.expect("<stream:stream")
        .send("<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
              "xmlns:stream='http://etherx.jabber.org/streams' id='3BF96D32' "
              "from='component.localhost'>")
        .expect("<handshake>")
        .send("<handshake/>");
    Config cfg;
    cfg.connection_type = ConnectionType::JABBERD14_COMPONENT;
    cfg.ip = "127.0.0.1";
    cfg.port = peer.port();
    cfg.hostname = "component.localhost";
    cfg.password = "test";
    Component c(cfg, f.loop());
    const Session& s = c.session();
    CHECK(s.type() == "component_unauthed");
    std::string type_while_negotiating;
    auto sub = c.subscribe(ev::AUTHNEGOTIATE,
                           [&](const Event&) { type_while_negotiating = c.session().type(); });
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    REQUIRE(c.ready());
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
    const std::string j2_header =
        "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
        "xmlns='http://jabberd.jabberstudio.org/ns/component/1.0' from='localhost' "
        "version='1.0' id='j2sid'>";
    peer.expect("<stream:stream")
        .send(j2_header + plain_only)
        .expect("</auth>")
        .send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
        .expect("<stream:stream")
        .send(j2_header + "<stream:features/>")
        .expect("<bind")
        .expect("/>")
        .send("<bind xmlns='http://jabberd.jabberstudio.org/ns/component/1.0' id='$ID'/>");
    Config cfg = client_config(peer.port());
    cfg.connection_type = ConnectionType::JABBERD20_COMPONENT;
    Component c(cfg, f.loop());
    std::string type_at_auth;
    auto sub =
        c.subscribe(ev::AUTHSUCCESS, [&](const Event&) { type_at_auth = c.session().type(); });
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    REQUIRE(c.ready());
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
    login(peer).expect("type=\"unavailable\"/>");
    Component c(client_config(peer.port()), f.loop());
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    REQUIRE(c.ready());
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
    login(peer);
    Component c(client_config(peer.port()), f.loop());
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    REQUIRE(c.ready());
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
    login(peer).expect("<priority>4</priority>");
    Component c(client_config(peer.port()), f.loop());
    c.output(presence(4));
    CHECK_FALSE(c.session().presence());
    auto sub = c.subscribe(ev::READY, [&](const Event&) { c.purge_queue(); });
    c.connect();
    REQUIRE(f.run_until([&] { return peer.done() || ended(c); }));
    CHECK(c.session().priority() == 4);
    CHECK(c.session().available_resource());
}

// -- roster
// ----------------------------------------------------------------------------------------

TEST_CASE("session: roster_fetch loads the roster at READY and marks the session interested",
          "[protocol][session][roster]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    with_roster(login(peer));
    Config cfg = client_config(peer.port());
    cfg.roster_fetch = true;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.has(ext::ROSTER_LOADED) || ended(c); }));
    const Seen* loaded = rec.last(ext::ROSTER_LOADED);
    REQUIRE(loaded);
    CHECK_FALSE(loaded->reason);
    REQUIRE(loaded->node);
    CHECK(loaded->node->attr("type") == "result");
    CHECK_FALSE(rec.has(ev::RTS_FINISH));   // the session's own request
    CHECK_FALSE(rec.has(ev::NODERECEIVED)); // its reply is not the application's
    CHECK(received(peer, "<query xmlns=\"jabber:iq:roster\"/>")); // no ver: none advertised

    const Session& s = c.session();
    CHECK(s.interested());
    CHECK(s.interested_resource());
    CHECK(s.roster_version() == "v1");
    REQUIRE(s.roster().size() == 2);
    const RosterItem& romeo = s.roster().at("romeo@example.net");
    CHECK(romeo.name == "Romeo");
    CHECK(romeo.subscription == "both");
    CHECK_FALSE(romeo.ask);
    CHECK(romeo.groups == std::vector<std::string>{"Friends", "Lovers"});
    const RosterItem& nurse = s.roster().at("nurse@example.com");
    CHECK(nurse.subscription == "none");
    CHECK(nurse.ask);
    CHECK(nurse.groups.empty());
}

TEST_CASE("session: without the option nothing is fetched until request_roster()",
          "[protocol][session][roster]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    with_roster(login(peer));
    Component c(client_config(peer.port()), f.loop());
    Recorder rec(c);
    CHECK_THROWS_AS(c.request_roster(), StateError); // not connected
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    f.run_for(50ms);
    CHECK_FALSE(received(peer, "jabber:iq:roster"));
    CHECK_FALSE(c.session().interested());
    c.request_roster();
    REQUIRE(f.run_until([&] { return rec.has(ext::ROSTER_LOADED) || ended(c); }));
    CHECK(c.session().roster().size() == 2);
    CHECK(c.session().interested());
}

TEST_CASE("session: request_roster() while negotiating asks once READY",
          "[protocol][session][roster]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    with_roster(login(peer));
    Component c(client_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    c.request_roster();
    REQUIRE(f.run_until([&] { return rec.has(ext::ROSTER_LOADED) || ended(c); }));
    CHECK(c.session().roster().size() == 2);
    // Asked at READY, i.e. after the bind.
    const std::string wire = peer.all_received();
    CHECK(wire.find("jabber:iq:roster") > wire.find("urn:ietf:params:xml:ns:xmpp-bind"));
}

TEST_CASE("session: a refused roster request is ROSTER_LOADED with the stanza error",
          "[protocol][session][roster]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    login(peer)
        .expect("jabber:iq:roster")
        .send("<iq type='error' id='$ID'><error type='cancel'><service-unavailable "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    Config cfg = client_config(peer.port());
    cfg.roster_fetch = true;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.has(ext::ROSTER_LOADED) || ended(c); }));
    const Seen* loaded = rec.last(ext::ROSTER_LOADED);
    REQUIRE(loaded);
    REQUIRE(loaded->reason);
    CHECK(loaded->reason->op == "roster");
    CHECK(loaded->reason->condition == "service-unavailable");
    CHECK_FALSE(c.session().interested());
    CHECK(c.session().roster().empty());
}

TEST_CASE("session: a roster the application fetches itself fills the session too",
          "[protocol][session][roster]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    with_roster(login(peer));
    Component c(client_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    c.output(build("iq")
                 .attr("type", "get")
                 .attr("id", "mine")
                 .child(build("query", "jabber:iq:roster")));
    REQUIRE(f.run_until([&] { return rec.has(ext::ROSTER_LOADED) || ended(c); }));
    CHECK(c.session().roster().size() == 2);
    CHECK(c.session().interested());
    const Seen* got = rec.last(ev::NODERECEIVED); // the application still gets its answer
    REQUIRE(got);
    CHECK(got->node->attr("id") == "mine");
}

TEST_CASE("session: roster pushes add, update and remove items and are acknowledged",
          "[protocol][session][roster]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    with_roster(login(peer))
        .send(push("p1", "<item jid='mercutio@example.com' name='M' subscription='from'/>"))
        .expect("id=\"p1\"")
        .send(push("p2", "<item jid='romeo@example.net' name='Romeo M.' subscription='both'/>",
                   "user@localhost", "v3"))
        .expect("id=\"p2\"")
        .send(push("p3", "<item jid='nurse@example.com' subscription='remove'/>", "USER@LocalHost",
                   "v4"))
        .expect("id=\"p3\"");
    Config cfg = client_config(peer.port());
    cfg.roster_fetch = true;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until(
        [&] { return (peer.done() && rec.count(ext::ROSTER_PUSHED) == 3) || ended(c); }));
    const Session& s = c.session();
    CHECK(s.roster().size() == 2);
    CHECK(s.roster().at("mercutio@example.com").subscription == "from");
    CHECK(s.roster().at("romeo@example.net").name == "Romeo M.");
    CHECK(s.roster().count("nurse@example.com") == 0);
    CHECK(s.roster_version() == "v4");

    const std::string wire = peer.all_received();
    CHECK(wire.find("<iq type=\"result\" id=\"p1\"/>") != std::string::npos);
    CHECK(wire.find("<iq type=\"result\" id=\"p2\" to=\"user@localhost\"/>") != std::string::npos);
    CHECK(wire.find("<iq type=\"result\" id=\"p3\" to=\"USER@LocalHost\"/>") != std::string::npos);

    std::vector<const Seen*> pushes;
    for (const auto& seen : rec.seen) {
        if (seen.name == ext::ROSTER_PUSHED) {
            pushes.push_back(&seen);
        }
    }
    REQUIRE(pushes.size() == 3);
    const auto* first = std::get_if<RosterChange>(&pushes[0]->payload);
    REQUIRE(first);
    CHECK(first->item.jid == "mercutio@example.com");
    CHECK(first->version == "v2");
    const auto* removed = std::get_if<RosterChange>(&pushes[2]->payload);
    REQUIRE(removed);
    CHECK(removed->item.subscription == "remove");
    CHECK(pushes[2]->node->attr("id") == "p3");
    CHECK_FALSE(rec.has(ev::NODERECEIVED)); // pushes are the session's, consumed
}

TEST_CASE("session: a roster push from anyone but the account is refused and not applied",
          "[protocol][session][roster]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    with_roster(login(peer))
        .send(
            push("evil", "<item jid='eve@evil.example' subscription='both'/>", "eve@evil.example"))
        .expect("id=\"evil\"")
        .send(push("full", "<item jid='eve@evil.example' subscription='both'/>",
                   "user@localhost.evil.example"))
        .expect("id=\"full\"")
        .send(push("two", "<item jid='a@example.com'/><item jid='b@example.com'/>"))
        .expect("id=\"two\"");
    Config cfg = client_config(peer.port());
    cfg.roster_fetch = true;
    Component c(cfg, f.loop());
    Recorder rec(c);
    std::vector<LogLevel> levels;
    c.set_logger(
        [&](LogLevel level, std::string_view, std::string_view) { levels.push_back(level); });
    c.connect();
    REQUIRE(f.run_until([&] { return peer.done() || ended(c); }));
    f.run_for(20ms);
    CHECK(c.session().roster().size() == 2);
    CHECK(c.session().roster().count("eve@evil.example") == 0);
    CHECK(c.session().roster_version() == "v1");
    CHECK_FALSE(rec.has(ext::ROSTER_PUSHED));
    CHECK_FALSE(rec.has(ev::NODERECEIVED));
    const std::string wire = peer.all_received();
    CHECK(wire.find("<iq type=\"error\" id=\"evil\" to=\"eve@evil.example\"><error "
                    "type=\"cancel\"><service-unavailable") != std::string::npos);
    CHECK(wire.find("<iq type=\"error\" id=\"full\"") != std::string::npos);
    CHECK(wire.find("<iq type=\"error\" id=\"two\"><error type=\"modify\"><bad-request") !=
          std::string::npos);
    CHECK(std::count(levels.begin(), levels.end(), LogLevel::warning) >= 2);
}

TEST_CASE("session: stanzas that are not roster pushes still reach the application",
          "[protocol][session][roster]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    login(peer)
        .send("<iq type='get' id='v1' from='localhost'><query xmlns='jabber:iq:version'/></iq>")
        .send("<iq type='result' id='r9' from='localhost'><query xmlns='jabber:iq:roster'/></iq>")
        .send("<message from='romeo@example.net'><body>hi</body></message>");
    Component c(client_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.count(ev::NODERECEIVED) == 3 || ended(c); }));
    CHECK(rec.count(ev::NODERECEIVED) == 3);
    CHECK_FALSE(rec.has(ext::ROSTER_PUSHED));
    CHECK(c.session().roster().empty());
}

TEST_CASE("session: everything is reset when the component reconnects",
          "[protocol][session][reset]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    with_roster(login(peer));
    Config cfg = client_config(peer.port());
    cfg.roster_fetch = true;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.has(ext::ROSTER_LOADED) || ended(c); }));
    c.output(presence(3));
    const Session& s = c.session();
    REQUIRE(s.available_resource());
    REQUIRE(s.interested_resource());
    const auto first_connection = c.connection_id();

    c.reconnect();
    CHECK(c.connection_id() != first_connection);
    CHECK(s.type() == "c2s_unauthed");
    CHECK(s.username().empty());
    CHECK(s.host().empty());
    CHECK(s.resource().empty());
    CHECK(s.full_jid().empty());
    CHECK(s.priority() == 0);
    CHECK_FALSE(s.presence());
    CHECK_FALSE(s.interested());
    CHECK(s.roster().empty());
    CHECK(s.roster_version().empty());
    CHECK_FALSE(s.open());
    CHECK_FALSE(s.connected_resource());

    rec.clear();
    REQUIRE(f.run_until([&] { return rec.has(ext::ROSTER_LOADED) || ended(c); }));
    CHECK(peer.connections() == 2);
    CHECK(s.type() == "c2s");
    CHECK(s.roster().size() == 2);
    CHECK_FALSE(s.available_resource()); // the new connection sent no presence yet
}

TEST_CASE("session: send() and close() are output() and shutdown()",
          "[protocol][session][methods]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    login(peer).expect("<body>through the session</body>").expect("</stream:stream>").close();
    Component c(client_config(peer.port()), f.loop());
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
    login(peer).expect("<priority>1</priority>");
    Component c(client_config(peer.port()), f.loop());
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
