// Roster (RFC 6121) in the session against a scripted server: the fetch at READY or on request,
// pushes and who may send them, and the reset on reconnect.
#include <catch2/catch.hpp>

#include <algorithm>

#include "configs.hpp"
#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "scripted_peer.hpp"
#include "scripts.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

const std::string roster_result =
    "<iq type='result' id='$ID'><query xmlns='jabber:iq:roster' ver='v1'>"
    "<item jid='romeo@example.net' name='Romeo' subscription='both'>"
    "<group>Friends</group><group>Lovers</group></item>"
    "<item jid='nurse@example.com' subscription='none' ask='subscribe'/>"
    "</query></iq>";

ScriptedPeer& with_roster(ScriptedPeer& peer) {
    return peer.expect("jabber:iq:roster").send(roster_result);
}

std::string push(const std::string& id, const std::string& item, const std::string& from = {},
                 const std::string& ver = "v2") {
    return "<iq type='set' id='" + id + "'" + (from.empty() ? "" : " from='" + from + "'") +
           "><query xmlns='jabber:iq:roster' ver='" + ver + "'>" + item + "</query></iq>";
}

// A client that fetches the roster at READY.
Config fetching_config(std::uint16_t port) {
    Config cfg = xmpp_config(port);
    cfg.roster_fetch = true;
    return cfg;
}

// Connects and runs the loop until the roster is loaded or the connection ends.
void connect_until_loaded(LoopFixture& f, Component& c, const Recorder& rec) {
    c.connect();
    REQUIRE(f.run_until([&] { return rec.has(ext::ROSTER_LOADED) || ended(c); }));
}

} // namespace

TEST_CASE("session: roster_fetch loads the roster at READY and marks the session interested",
          "[protocol][session][roster]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    with_roster(xmpp_login(peer));
    Component c(fetching_config(peer.port()), f.loop());
    Recorder rec(c);
    connect_until_loaded(f, c, rec);
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
    with_roster(xmpp_login(peer));
    Component c(xmpp_config(peer.port()), f.loop());
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
    with_roster(xmpp_login(peer));
    Component c(xmpp_config(peer.port()), f.loop());
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
    xmpp_login(peer)
        .expect("jabber:iq:roster")
        .send("<iq type='error' id='$ID'><error type='cancel'><service-unavailable "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    Component c(fetching_config(peer.port()), f.loop());
    Recorder rec(c);
    connect_until_loaded(f, c, rec);
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
    with_roster(xmpp_login(peer));
    Component c(xmpp_config(peer.port()), f.loop());
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
    with_roster(xmpp_login(peer))
        .send(push("p1", "<item jid='mercutio@example.com' name='M' subscription='from'/>"))
        .expect("id=\"p1\"")
        .send(push("p2", "<item jid='romeo@example.net' name='Romeo M.' subscription='both'/>",
                   "user@localhost", "v3"))
        .expect("id=\"p2\"")
        .send(push("p3", "<item jid='nurse@example.com' subscription='remove'/>", "USER@LocalHost",
                   "v4"))
        .expect("id=\"p3\"");
    Component c(fetching_config(peer.port()), f.loop());
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
    with_roster(xmpp_login(peer))
        .send(
            push("evil", "<item jid='eve@evil.example' subscription='both'/>", "eve@evil.example"))
        .expect("id=\"evil\"")
        .send(push("full", "<item jid='eve@evil.example' subscription='both'/>",
                   "user@localhost.evil.example"))
        .expect("id=\"full\"")
        .send(push("two", "<item jid='a@example.com'/><item jid='b@example.com'/>"))
        .expect("id=\"two\"");
    Component c(fetching_config(peer.port()), f.loop());
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
    xmpp_login(peer)
        .send("<iq type='get' id='v1' from='localhost'><query xmlns='jabber:iq:version'/></iq>")
        .send("<iq type='result' id='r9' from='localhost'><query xmlns='jabber:iq:roster'/></iq>")
        .send("<message from='romeo@example.net'><body>hi</body></message>");
    Component c(xmpp_config(peer.port()), f.loop());
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
    with_roster(xmpp_login(peer));
    Component c(fetching_config(peer.port()), f.loop());
    Recorder rec(c);
    connect_until_loaded(f, c, rec);
    c.output(build("presence").child(build("priority").text("3")));
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
