// XEP-0030 against a scripted peer: queries and their events, the responder for a XEP-0114
// component and for a jabberd2 component.
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

const std::string info_ns(disco_info_ns);
const std::string items_ns(disco_items_ns);

} // namespace

TEST_CASE("disco: query_info publishes QUERY_INFO with the identities and features of the reply",
          "[protocol][disco]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .expect(info_ns + "\"/></iq>")
        .send("<iq type='result' id='$ID' from='conference.localhost' to='component.localhost'>"
              "<query xmlns='" +
              info_ns +
              "'><identity category='conference' type='text' name='Chatrooms'/>"
              "<identity category='directory' type='chatroom' name='Salons' xml:lang='fr'/>"
              "<feature var='" +
              info_ns + "'/><feature var='http://jabber.org/protocol/muc'/></query></iq>")
        .expect("</stream:stream>")
        .close();
    Component c(j14_config(peer.port()), f.loop());
    auto disco = std::make_shared<Disco>();
    c.attach(disco);
    Recorder rec(c);
    connect_ready(f, c);
    const std::string id = disco->query_info("conference.localhost", "", 2s);
    REQUIRE(f.run_until([&] { return rec.has(ext::QUERY_INFO); }));
    const Seen* got = rec.last(ext::QUERY_INFO);
    CHECK_FALSE(got->reason);
    REQUIRE(got->node);
    CHECK(got->node->attr("id") == id);
    const auto* info = std::get_if<DiscoInfo>(&got->payload);
    REQUIRE(info);
    CHECK(info->jid == "conference.localhost");
    CHECK(info->node.empty());
    REQUIRE(info->identities.size() == 2);
    CHECK(info->identities[0].category == "conference");
    CHECK(info->identities[0].type == "text");
    CHECK(info->identities[0].name == "Chatrooms");
    CHECK(info->identities[1].lang == "fr");
    CHECK(info->features == std::vector<std::string>{info_ns, "http://jabber.org/protocol/muc"});
    // A component's query goes from its own domain.
    CHECK(
        contains(peer.all_received(), "to=\"conference.localhost\" from=\"component.localhost\""));
    CHECK_FALSE(rec.has(ev::NODERECEIVED));
    shutdown_and_wait(f, c);
}

TEST_CASE("disco: query_items publishes QUERY_ITEMS with the items, and the node asked for",
          "[protocol][disco]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .expect("node=\"rooms\"/></iq>")
        .send("<iq type='result' id='$ID' from='localhost'><query xmlns='" + items_ns +
              "' node='rooms'><item jid='a@conference.localhost' name='A'/>"
              "<item jid='localhost' node='n1'/></query></iq>")
        .expect("</stream:stream>")
        .close();
    Component c(j14_config(peer.port()), f.loop());
    auto disco = std::make_shared<Disco>();
    c.attach(disco);
    connect_ready(f, c);
    std::optional<DiscoItems> items;
    bool called = false;
    disco->query_items("localhost", "rooms", [&](const Event& e) {
        called = true;
        CHECK(e.name == ext::QUERY_ITEMS);
        if (const auto* d = e.get<DiscoItems>()) {
            items = *d;
        }
    });
    REQUIRE(f.run_until([&] { return called; }));
    REQUIRE(items);
    CHECK(items->jid == "localhost");
    CHECK(items->node == "rooms");
    REQUIRE(items->items.size() == 2);
    CHECK(items->items[0].jid == "a@conference.localhost");
    CHECK(items->items[0].name == "A");
    CHECK(items->items[1].node == "n1");
    CHECK(contains(peer.all_received(), "<query xmlns=\"" + items_ns + "\" node=\"rooms\"/>"));
    shutdown_and_wait(f, c);
}

TEST_CASE("disco: an error reply or no reply at all is the same event with a reason and no "
          "payload",
          "[protocol][disco]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .expect(info_ns + "\"/></iq>")
        .send("<iq type='error' id='$ID' from='nobody.localhost'><query xmlns='" + info_ns +
              "'/><error type='cancel' code='404'><item-not-found "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no such entity</text></error></iq>")
        .expect(items_ns + "\"/></iq>") // never answered
        .expect("</stream:stream>")
        .close();
    Component c(j14_config(peer.port()), f.loop());
    auto disco = std::make_shared<Disco>();
    c.attach(disco);
    Recorder rec(c);
    connect_ready(f, c);
    disco->query_info("nobody.localhost");
    REQUIRE(f.run_until([&] { return rec.has(ext::QUERY_INFO); }));
    const Seen* err = rec.last(ext::QUERY_INFO);
    REQUIRE(err->reason);
    CHECK(err->reason->op == "disco#info");
    CHECK(err->reason->condition == "item-not-found");
    CHECK(err->reason->code == 404);
    CHECK(err->reason->text == "no such entity");
    CHECK(std::holds_alternative<std::monostate>(err->payload));
    REQUIRE(err->node);
    CHECK(err->node->attr("type") == "error");

    disco->query_items("silent.localhost", "", 200ms);
    REQUIRE(f.run_until([&] { return rec.has(ext::QUERY_ITEMS); }));
    const Seen* late = rec.last(ext::QUERY_ITEMS);
    REQUIRE(late->reason);
    CHECK(late->reason->op == "disco#items");
    CHECK(late->reason->condition == "timeout");
    CHECK_FALSE(late->node);
    CHECK(std::holds_alternative<std::monostate>(late->payload));
    shutdown_and_wait(f, c);
}

TEST_CASE("disco: a query made while detached is refused", "[protocol][disco]") {
    Disco disco;
    CHECK_THROWS_AS(disco.query_info("localhost"), StateError);
    CHECK_FALSE(Disco::parse_info(Node::parse("<iq type='error' id='1'/>")));
    const auto parsed = Disco::parse_info(
        Node::parse("<iq type='result' from='x'><query xmlns='" + info_ns + "' node='n'/></iq>"));
    REQUIRE(parsed);
    CHECK(parsed->jid == "x");
    CHECK(parsed->node == "n");
}

TEST_CASE("disco: the responder answers info and items addressed to the component, with the "
          "attached extensions' features; unknown nodes get item-not-found; other addresses "
          "are left alone",
          "[protocol][disco][responder]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .send("<iq type='get' id='i1' from='localhost' to='component.localhost'><query xmlns='" +
              info_ns + "'/></iq>")
        .expect("</iq>")
        .send("<iq type='get' id='i2' from='u@localhost/r' to='component.localhost'><query "
              "xmlns='" +
              items_ns + "'/></iq>")
        .expect("</iq>")
        .send("<iq type='get' id='i3' from='u@localhost/r' to='component.localhost'><query "
              "xmlns='" +
              info_ns + "' node='nope'/></iq>")
        .expect("</iq>")
        .send("<iq type='get' id='i4' from='u@localhost/r' to='component.localhost'><query "
              "xmlns='" +
              info_ns + "' node='commands'/></iq>")
        .expect("</iq>")
        .send("<iq type='get' id='i5' from='u@localhost/r' to='room@component.localhost'><query "
              "xmlns='" +
              info_ns + "'/></iq>")
        .expect("</stream:stream>")
        .close();
    Component c(j14_config(peer.port()), f.loop());
    Disco::Options opt;
    opt.features = {"urn:test:extra"};
    opt.items = {DiscoItem{"room@component.localhost", "", "A room"}};
    opt.nodes["commands"] =
        DiscoNode{{DiscoIdentity{"automation", "command-list", "", ""}}, {"urn:test:node"}, {}};
    c.attach(std::make_shared<Disco>(opt));
    c.attach(std::make_shared<Ping>());
    Recorder rec(c);
    connect_ready(f, c);
    REQUIRE(f.run_until([&] { return rec.has(ev::NODERECEIVED); }));
    const std::string wire = peer.all_received();
    INFO(wire);
    // i1: the default identity, the built-in features, the configured one, Ping's.
    CHECK(contains(wire, "<iq type=\"result\" id=\"i1\" to=\"localhost\" "
                         "from=\"component.localhost\"><query xmlns=\"" +
                             info_ns +
                             "\"><identity category=\"component\" type=\"generic\"/>"
                             "<feature var=\"" +
                             info_ns + "\"/><feature var=\"" + items_ns +
                             "\"/><feature var=\"urn:test:extra\"/>"
                             "<feature var=\"urn:xmpp:ping\"/></query></iq>"));
    // i2: the configured items.
    CHECK(contains(wire, "id=\"i2\" to=\"u@localhost/r\" from=\"component.localhost\"><query "
                         "xmlns=\"" +
                             items_ns +
                             "\"><item jid=\"room@component.localhost\" name=\"A room\"/>"
                             "</query></iq>"));
    // i3: a node nobody configured.
    CHECK(contains(wire, "<iq type=\"error\" id=\"i3\""));
    CHECK(contains(wire, "<error type=\"cancel\"><item-not-found "
                         "xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/></error>"));
    // i4: a configured node's own answer.
    CHECK(contains(wire, "id=\"i4\" to=\"u@localhost/r\" from=\"component.localhost\"><query "
                         "xmlns=\"" +
                             info_ns + "\" node=\"commands\"><identity category=\"automation\""));
    CHECK(contains(wire, "<feature var=\"urn:test:node\"/>"));
    // i5: to another address the component serves: the application's.
    CHECK_FALSE(contains(wire, "id=\"i5\""));
    REQUIRE(rec.count(ev::NODERECEIVED) == 1);
    CHECK(rec.last(ev::NODERECEIVED)->node->attr("id") == "i5");
    shutdown_and_wait(f, c);
}

TEST_CASE("disco: with respond off nothing is answered and every query goes on",
          "[protocol][disco][responder]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .send("<iq type='get' id='i1' from='localhost' to='component.localhost'><query xmlns='" +
              info_ns + "'/></iq>")
        .expect("</stream:stream>")
        .close();
    Component c(j14_config(peer.port()), f.loop());
    Disco::Options opt;
    opt.respond = false;
    c.attach(std::make_shared<Disco>(opt));
    Recorder rec(c);
    connect_ready(f, c);
    REQUIRE(f.run_until([&] { return rec.has(ev::NODERECEIVED); }));
    f.run_for(50ms);
    CHECK_FALSE(contains(peer.all_received(), "id=\"i1\""));
    shutdown_and_wait(f, c);
}

TEST_CASE("disco: a jabberd2 component answers the session manager's query in a route back",
          "[protocol][disco][responder][j2]") {
    const std::string ns(jabberd2_component_ns);
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    j2_login(peer)
        .send("<route xmlns='" + ns +
              "' from='sm' to='svc.localhost'><iq xmlns='jabber:client' type='get' id='sm1' "
              "from='localhost' to='svc.localhost'><query xmlns='" +
              info_ns + "'/></iq></route>")
        .expect("</route>")
        .expect("</stream:stream>")
        .close();
    Config cfg = j2_config(peer.port());
    cfg.bind_domain = "svc.localhost";
    Component c(cfg, f.loop());
    c.attach(std::make_shared<Disco>());
    Recorder rec(c);
    connect_ready(f, c);
    REQUIRE(f.run_until([&] { return contains(peer.all_received(), "</route>"); }));
    CHECK(contains(peer.all_received(),
                   "<route from=\"svc.localhost\" to=\"sm\"><iq xmlns=\"jabber:client\" "
                   "type=\"result\" id=\"sm1\" to=\"localhost\" from=\"svc.localhost\"><query "
                   "xmlns=\"" +
                       info_ns + "\"><identity category=\"component\" type=\"generic\"/>"));
    CHECK_FALSE(rec.has(ev::NODERECEIVED));
    shutdown_and_wait(f, c);
}
