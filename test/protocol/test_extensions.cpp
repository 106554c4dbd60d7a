// Extensions against a scripted peer: dispatch order and consumption, attach and detach rules,
// XEP-0030 queries and responder, XEP-0199 responder, one-off pings and the keepalive.
#include <catch2/catch.hpp>

#include <algorithm>

#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "scripted_peer.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

// XEP-0114 §3's example: stream id 3BF96D32 and secret "test".
const std::string j14_header =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
    "xmlns:stream='http://etherx.jabber.org/streams' id='3BF96D32' from='component.localhost'>";
const std::string j14_handshake = "<handshake>aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e</handshake>";

Config j14_config(std::uint16_t port) {
    Config c;
    c.ip = "127.0.0.1";
    c.port = port;
    c.hostname = "component.localhost";
    c.password = "test";
    c.connection_type = ConnectionType::JABBERD14_COMPONENT;
    c.shutdown_timeout = 1s;
    return c;
}

// Up to READY; the script goes on with what the test adds.
ScriptedPeer& handshake(ScriptedPeer& peer) {
    return peer.expect("<stream:stream")
        .send(j14_header)
        .expect(j14_handshake)
        .send("<handshake/>");
}

bool ended(const Component& c) {
    return c.state() == State::disconnected;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

void connect_ready(LoopFixture& f, Component& c) {
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    REQUIRE(c.ready());
}

void finish(LoopFixture& f, Component& c) {
    c.shutdown();
    REQUIRE(f.run_until([&] { return ended(c); }));
}

// An extension that records what it is offered and consumes when told to.
class Probe : public Extension {
public:
    Probe(std::string name, std::vector<StanzaMatch> matches, bool consume,
          std::vector<std::string>& log)
        : name_(std::move(name)), matches_(std::move(matches)), consume_(consume), log_(log) {}

    std::string_view name() const override { return name_; }
    std::vector<StanzaMatch> handles() const override { return matches_; }
    void attached(Component&) override { log_.push_back(name_ + ":attached"); }
    void detached(Component&) override { log_.push_back(name_ + ":detached"); }
    bool on_stanza(Component& c, const Node& stanza) override {
        log_.push_back(name_ + ":" + stanza.attr("id"));
        last_name = stanza.name();
        if (on_stanza_hook) {
            on_stanza_hook(c);
        }
        return consume_;
    }

    std::function<void(Component&)> on_stanza_hook;
    std::string last_name;

private:
    std::string name_;
    std::vector<StanzaMatch> matches_;
    bool consume_;
    std::vector<std::string>& log_;
};

std::vector<std::string> received_ids(const Recorder& rec) {
    std::vector<std::string> ids;
    for (const auto& s : rec.seen) {
        if (s.name == ev::NODERECEIVED) {
            ids.push_back(s.node->attr("id"));
        }
    }
    return ids;
}

const std::string info_ns(disco_info_ns);
const std::string items_ns(disco_items_ns);

} // namespace

// -- the extension interface -------------------------------------------------------------------

TEST_CASE("extensions: a second extension with the same name, or one attached elsewhere, is "
          "refused; detach reports whether there was one",
          "[protocol][extensions]") {
    LoopFixture f;
    std::vector<std::string> log;
    Component a(j14_config(1), f.loop());
    Component b(j14_config(1), f.loop());
    auto first = std::make_shared<Probe>("x", std::vector<StanzaMatch>{}, false, log);
    a.attach(first);
    CHECK(first->is_attached());
    CHECK(a.extension("x") == first.get());
    CHECK_THROWS_AS(a.attach(std::make_shared<Probe>("x", std::vector<StanzaMatch>{}, false, log)),
                    Error);
    CHECK_THROWS_AS(b.attach(first), Error); // one component at a time
    CHECK(b.extension("x") == nullptr);
    CHECK_THROWS_AS(a.attach(nullptr), Error);
    CHECK(a.detach("x"));
    CHECK_FALSE(a.detach("x"));
    CHECK_FALSE(first->is_attached());
    b.attach(first); // free again
    CHECK(b.extension("x") == first.get());
    CHECK(log == std::vector<std::string>{"x:attached", "x:detached", "x:attached"});
}

TEST_CASE("extensions: an attach whose attached() throws leaves nothing behind",
          "[protocol][extensions]") {
    struct Refuses : Extension {
        std::string_view name() const override { return "refuses"; }
        std::vector<StanzaMatch> handles() const override { return {}; }
        void attached(Component&) override { throw Error("no"); }
        bool on_stanza(Component&, const Node&) override { return false; }
    };
    LoopFixture f;
    Component c(j14_config(1), f.loop());
    auto ext = std::make_shared<Refuses>();
    CHECK_THROWS_AS(c.attach(ext), Error);
    CHECK(c.extension("refuses") == nullptr);
    CHECK_FALSE(ext->is_attached());
}

TEST_CASE("extensions: stanzas are offered in attach order until one consumes them; the rest "
          "reach PCJ_NODERECEIVED",
          "[protocol][extensions][dispatch]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .send("<message id='m1' to='component.localhost'><body>x</body></message>")
        .send("<iq type='set' id='q1' to='component.localhost'><q xmlns='urn:test:a'/></iq>")
        .send("<iq type='get' id='q2' to='component.localhost'><q xmlns='urn:test:b'/></iq>")
        .send("<presence id='p1' to='component.localhost'/>")
        .send("<message id='end'/>")
        .expect("</stream:stream>")
        .close();
    std::vector<std::string> log;
    Component c(j14_config(peer.port()), f.loop());
    Recorder rec(c);
    // "all" sees iqs but never consumes; "a" consumes sets in urn:test:a; "b" wants gets in
    // urn:test:b but comes after "a"; "msg" consumes messages.
    c.attach(std::make_shared<Probe>("all", std::vector<StanzaMatch>{{"iq", "", ""}}, false, log));
    c.attach(std::make_shared<Probe>("a", std::vector<StanzaMatch>{{"iq", "set", "urn:test:a"}},
                                     true, log));
    c.attach(std::make_shared<Probe>("b", std::vector<StanzaMatch>{{"iq", "get", "urn:test:b"}},
                                     false, log));
    c.attach(
        std::make_shared<Probe>("msg", std::vector<StanzaMatch>{{"message", "", ""}}, true, log));
    log.clear();
    connect_ready(f, c);
    REQUIRE(f.run_until([&] {
        return rec.has(ev::NODERECEIVED) && rec.last(ev::NODERECEIVED)->node->attr("id") == "p1";
    }));
    f.run_for(50ms);
    CHECK(log == std::vector<std::string>{"msg:m1", "all:q1", "a:q1", "all:q2", "b:q2", "msg:end"});
    // Consumed: m1, q1, end. Offered but left: q2. Offered to nobody: p1.
    CHECK(received_ids(rec) == std::vector<std::string>{"q2", "p1"});
    finish(f, c);
}

TEST_CASE("extensions: an extension detached by an earlier one during dispatch is not offered "
          "the stanza; one attached during dispatch waits for the next",
          "[protocol][extensions][dispatch]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .send("<message id='m1'/>")
        .send("<message id='m2'/>")
        .expect("</stream:stream>")
        .close();
    std::vector<std::string> log;
    Component c(j14_config(peer.port()), f.loop());
    Recorder rec(c);
    auto first =
        std::make_shared<Probe>("first", std::vector<StanzaMatch>{{"message", "", ""}}, false, log);
    auto second =
        std::make_shared<Probe>("second", std::vector<StanzaMatch>{{"message", "", ""}}, true, log);
    auto late =
        std::make_shared<Probe>("late", std::vector<StanzaMatch>{{"message", "", ""}}, false, log);
    first->on_stanza_hook = [&](Component& comp) {
        if (comp.extension("second") != nullptr) {
            comp.detach("second");
            comp.attach(late);
        }
    };
    c.attach(first);
    c.attach(second);
    log.clear();
    connect_ready(f, c);
    REQUIRE(f.run_until([&] { return rec.count(ev::NODERECEIVED) == 2; }));
    CHECK(log == std::vector<std::string>{"first:m1", "second:detached", "late:attached",
                                          "first:m2", "late:m2"});
    CHECK(received_ids(rec) == std::vector<std::string>{"m1", "m2"});
    finish(f, c);
}

TEST_CASE("extensions: a jabberd2 route is matched on the stanza inside and handed over whole",
          "[protocol][extensions][j2]") {
    const std::string ns(jabberd2_component_ns);
    const std::string header = "<?xml version='1.0'?><stream:stream "
                               "xmlns:stream='http://etherx.jabber.org/streams' xmlns='" +
                               ns + "' from='localhost' version='1.0' id='j2sid'>";
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(header + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                       "<mechanism>PLAIN</mechanism></mechanisms></stream:features>")
        .expect("</auth>")
        .send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
        .expect("<stream:stream")
        .send(header + "<stream:features/>")
        .expect("<bind")
        .expect("/>")
        .send("<bind xmlns='" + ns + "' id='$ID'/>")
        .send("<route xmlns='" + ns +
              "' from='localhost' to='user.localhost'>"
              "<iq xmlns='jabber:client' type='set' id='r1'><q xmlns='urn:test:a'/></iq></route>")
        .expect("</stream:stream>")
        .close();
    Config cfg;
    cfg.connection_type = ConnectionType::JABBERD20_COMPONENT;
    cfg.ip = "127.0.0.1";
    cfg.port = peer.port();
    cfg.hostname = "localhost";
    cfg.username = "user";
    cfg.password = "pass";
    cfg.tls.policy = TlsPolicy::disabled;
    cfg.sasl.allow_plaintext_password = true;
    cfg.shutdown_timeout = 1s;
    std::vector<std::string> log; // outlives the component, whose destructor detaches
    Component c(cfg, f.loop());
    auto probe = std::make_shared<Probe>("a", std::vector<StanzaMatch>{{"iq", "set", "urn:test:a"}},
                                         true, log);
    c.attach(probe);
    Recorder rec(c);
    connect_ready(f, c);
    REQUIRE(f.run_until([&] { return log.size() == 2; }));
    // Given the route itself (which has no id of its own), consumed.
    CHECK(log.back() == "a:");
    CHECK(probe->last_name == "route");
    f.run_for(50ms);
    CHECK_FALSE(rec.has(ev::NODERECEIVED));
    finish(f, c);
}

// -- XEP-0030 ---------------------------------------------------------------------------------

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
    finish(f, c);
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
    finish(f, c);
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
    finish(f, c);
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
    finish(f, c);
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
    finish(f, c);
}

TEST_CASE("disco: a jabberd2 component answers the session manager's query in a route back",
          "[protocol][disco][responder][j2]") {
    const std::string ns(jabberd2_component_ns);
    const std::string header = "<?xml version='1.0'?><stream:stream "
                               "xmlns:stream='http://etherx.jabber.org/streams' xmlns='" +
                               ns + "' from='localhost' version='1.0' id='j2sid'>";
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(header + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                       "<mechanism>PLAIN</mechanism></mechanisms></stream:features>")
        .expect("</auth>")
        .send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
        .expect("<stream:stream")
        .send(header + "<stream:features/>")
        .expect("<bind")
        .expect("/>")
        .send("<bind xmlns='" + ns + "' id='$ID'/>")
        .send("<route xmlns='" + ns +
              "' from='sm' to='svc.localhost'><iq xmlns='jabber:client' type='get' id='sm1' "
              "from='localhost' to='svc.localhost'><query xmlns='" +
              info_ns + "'/></iq></route>")
        .expect("</route>")
        .expect("</stream:stream>")
        .close();
    Config cfg;
    cfg.connection_type = ConnectionType::JABBERD20_COMPONENT;
    cfg.ip = "127.0.0.1";
    cfg.port = peer.port();
    cfg.hostname = "localhost";
    cfg.username = "user";
    cfg.password = "pass";
    cfg.bind_domain = "svc.localhost";
    cfg.tls.policy = TlsPolicy::disabled;
    cfg.sasl.allow_plaintext_password = true;
    cfg.shutdown_timeout = 1s;
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
    finish(f, c);
}

// -- XEP-0199 ---------------------------------------------------------------------------------

TEST_CASE("ping: a ping addressed to the component is answered with an empty result and "
          "consumed; one-off pings report their round trip",
          "[protocol][ping]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .send("<iq type='get' id='p1' from='localhost' to='component.localhost'>"
              "<ping xmlns='urn:xmpp:ping'/></iq>")
        .expect("id=\"p1\"")
        .expect("urn:xmpp:ping\"/></iq>")
        .send("<iq type='result' id='$ID' from='localhost'/>")
        .expect("urn:xmpp:ping\"/></iq>")
        .send("<iq type='error' id='$ID' from='old.localhost'><error type='cancel'>"
              "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
        .expect("</stream:stream>")
        .close();
    Component c(j14_config(peer.port()), f.loop());
    auto ping = std::make_shared<Ping>();
    c.attach(ping);
    Recorder rec(c);
    connect_ready(f, c);
    REQUIRE(f.run_until([&] { return contains(peer.all_received(), "id=\"p1\""); }));
    CHECK(contains(peer.all_received(), "<iq type=\"result\" id=\"p1\" to=\"localhost\" "
                                        "from=\"component.localhost\"/>"));
    std::vector<PingResult> results;
    ping->ping("localhost", [&](const PingResult& r) { results.push_back(r); });
    REQUIRE(f.run_until([&] { return results.size() == 1; }));
    ping->ping("old.localhost", [&](const PingResult& r) { results.push_back(r); });
    REQUIRE(f.run_until([&] { return results.size() == 2; }));
    CHECK(results[0].answered);
    CHECK(results[0].error.empty());
    CHECK(results[0].rtt.count() > 0);
    CHECK_FALSE(results[0].failure);
    CHECK(results[1].answered); // an error proves the path as well
    CHECK(results[1].error == "service-unavailable");
    CHECK_FALSE(rec.has(ev::NODERECEIVED));
    finish(f, c);
    CHECK(ping->keepalives_sent() == 0); // no keepalive was asked for
}

TEST_CASE("ping: the keepalive pings after an idle interval and, with no reply within the "
          "timeout, publishes PING_TIMEOUT and drops the connection",
          "[protocol][ping][keepalive]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).expect("urn:xmpp:ping").wait_close(); // a peer that stopped answering
    Component c(j14_config(peer.port()), f.loop());
    Ping::Options opt;
    opt.interval = 200ms;
    opt.timeout = 300ms;
    auto ping = std::make_shared<Ping>(opt);
    c.attach(ping);
    Recorder rec(c);
    std::chrono::steady_clock::time_point ready_at, ping_at, fail_at;
    auto s1 =
        c.subscribe(ev::READY, [&](const Event&) { ready_at = std::chrono::steady_clock::now(); });
    auto s2 = c.subscribe(ev::NODESENT, [&](const Event& e) {
        if (e.node->child("ping", std::string(ping_ns)) != nullptr) {
            ping_at = std::chrono::steady_clock::now();
        }
    });
    auto s3 = c.subscribe(ev::SOCKETFAIL,
                          [&](const Event&) { fail_at = std::chrono::steady_clock::now(); });
    connect_ready(f, c);
    REQUIRE(f.run_until([&] { return ended(c); }, 5s));
    CHECK(ping->keepalives_sent() == 1);
    CHECK(ping->keepalives_answered() == 0);
    // The keepalive pings its own domain, which a server routes back.
    CHECK(contains(peer.all_received(), "<iq type=\"get\" to=\"component.localhost\" "
                                        "from=\"component.localhost\""));
    std::vector<std::string> tail;
    for (const auto& s : rec.seen) {
        if (s.name == ext::PING_TIMEOUT || s.name == ev::SOCKETFAIL ||
            s.name == ev::SOCKETDISCONNECT) {
            tail.push_back(s.name);
        }
    }
    CHECK(tail ==
          std::vector<std::string>{"ping_timeout", "PCJ_SOCKETFAIL", "PCJ_SOCKETDISCONNECT"});
    const Seen* timeout = rec.last(ext::PING_TIMEOUT);
    REQUIRE(timeout->reason);
    CHECK(timeout->reason->op == "keepalive");
    CHECK(timeout->reason->condition == "timeout");
    const Seen* fail = rec.last(ev::SOCKETFAIL);
    REQUIRE(fail->reason);
    CHECK(fail->reason->op == "keepalive");
    CHECK(fail->reason->condition == "timeout");
    const auto idle = ping_at - ready_at;
    const auto waited = fail_at - ping_at;
    CHECK(idle >= 195ms);
    CHECK(idle < 1500ms);
    CHECK(waited >= 295ms);
    CHECK(waited < 1500ms);
}

TEST_CASE("ping: an error reply satisfies the keepalive, which then waits for the next idle "
          "interval",
          "[protocol][ping][keepalive]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .expect("urn:xmpp:ping")
        .send("<iq type='error' id='$ID' from='component.localhost'><error type='cancel'>"
              "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
        .expect("</iq>")
        .expect("urn:xmpp:ping")
        .send("<iq type='result' id='$ID'/>")
        .expect("</stream:stream>")
        .close();
    Component c(j14_config(peer.port()), f.loop());
    Ping::Options opt;
    opt.interval = 150ms;
    opt.timeout = 400ms;
    auto ping = std::make_shared<Ping>(opt);
    c.attach(ping);
    Recorder rec(c);
    connect_ready(f, c);
    REQUIRE(f.run_until([&] { return ping->keepalives_answered() == 2 || ended(c); }, 5s));
    CHECK(c.ready());
    CHECK(ping->keepalives_sent() == 2);
    f.run_for(100ms); // less than the interval: no third ping yet
    CHECK(ping->keepalives_sent() == 2);
    CHECK_FALSE(rec.has(ext::PING_TIMEOUT));
    CHECK_FALSE(rec.has(ev::SOCKETFAIL));
    CHECK_FALSE(rec.has(ev::NODERECEIVED)); // the replies went to the keepalive
    finish(f, c);
}

TEST_CASE("ping: traffic from the peer postpones the keepalive", "[protocol][ping][keepalive]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer);
    for (int i = 0; i < 6; ++i) {
        peer.pause(80ms).send("<message id='t" + std::to_string(i) + "'/>");
    }
    peer.expect("urn:xmpp:ping")
        .send("<iq type='result' id='$ID'/>")
        .expect("</stream:stream>")
        .close();
    Component c(j14_config(peer.port()), f.loop());
    Ping::Options opt;
    opt.interval = 250ms;
    opt.timeout = 1s;
    auto ping = std::make_shared<Ping>(opt);
    c.attach(ping);
    Recorder rec(c);
    std::size_t messages_before_ping = 0;
    auto s = c.subscribe(ev::NODESENT, [&](const Event& e) {
        if (e.node->child("ping", std::string(ping_ns)) != nullptr) {
            messages_before_ping = rec.count(ev::NODERECEIVED);
        }
    });
    connect_ready(f, c);
    REQUIRE(f.run_until([&] { return ping->keepalives_answered() == 1 || ended(c); }, 5s));
    // Messages came every 80 ms: the first ping waited for the quiet after the last one.
    CHECK(messages_before_ping == 6);
    finish(f, c);
}

TEST_CASE("ping: a detached keepalive sends nothing more, and an extension may outlive its "
          "component",
          "[protocol][ping][keepalive]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).wait_close();
    Ping::Options opt;
    opt.interval = 100ms;
    opt.timeout = 1s;
    auto ping = std::make_shared<Ping>(opt);
    auto kept = std::make_shared<Ping>(opt); // survives the component below
    {
        Component c(j14_config(peer.port()), f.loop());
        c.attach(ping);
        connect_ready(f, c);
        CHECK(c.detach("ping"));
        c.attach(kept);
        f.run_for(50ms);
        c.detach("ping");
        f.run_for(300ms);
        CHECK(ping->keepalives_sent() == 0);
        CHECK(kept->keepalives_sent() == 0);
        c.attach(kept);
        REQUIRE(f.run_until([&] { return kept->keepalives_sent() == 1; }));
    } // destroyed with a keepalive outstanding: detached first, its timer closed
    CHECK_FALSE(kept->is_attached());
    f.run_for(200ms);
    CHECK(kept->keepalives_sent() == 1);
    CHECK_THROWS_AS(kept->ping("localhost", [](const PingResult&) {}), StateError);
}
