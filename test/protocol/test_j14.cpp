// JABBERD14_COMPONENT against a scripted peer: the handshake and every way it can fail.
#include <catch2/catch.hpp>

#include "configs.hpp"
#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "scripted_peer.hpp"
#include "scripts.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {} // namespace

TEST_CASE("j14: a correct handshake reaches READY in PCJ's order, with jid and sid set",
          "[protocol][j14]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(component_header)
        .expect(expected_handshake)
        .send("<handshake/>");
    Component c(j14_config(peer.port(), 2s), f.loop());
    Recorder rec(c);
    std::string jid_at_ready;
    auto sub = c.subscribe(ev::READY, [&](const Event&) { jid_at_ready = c.jid(); });
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    CHECK(join(rec.names()) == "PCJ_CONNECT PCJ_CONNECTING PCJ_CONNECTED PCJ_STREAMSTART "
                               "PCJ_AUTHNEGOTIATE PCJ_AUTHSUCCESS PCJ_READY");
    CHECK(jid_at_ready == "component.localhost");
    CHECK(c.sid() == "3BF96D32");
    CHECK_FALSE(peer.failed());

    // The header PCJ sends: 'to' the component name, the accept namespace, no version.
    const std::string wire = peer.all_received();
    CHECK(wire.find("to=\"component.localhost\"") != std::string::npos);
    CHECK(wire.find("xmlns=\"jabber:component:accept\"") != std::string::npos);
    CHECK(wire.find("xmlns:stream=\"http://etherx.jabber.org/streams\"") != std::string::npos);
    CHECK(wire.find("version=") == std::string::npos);
    const Seen* start = rec.last(ev::STREAMSTART);
    REQUIRE(start);
    REQUIRE(start->node);
    CHECK(start->node->name() == "stream:stream");
    shutdown_and_wait(f, c);
}

TEST_CASE("j14: a wrong secret ends in PCJ_AUTHFAIL with not-authorized and one clean shutdown",
          "[protocol][j14]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(component_header)
        .expect("<handshake>")
        .send("<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
              "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Given token does not match"
              "</text></stream:error></stream:stream>")
        .expect("</stream:stream>")
        .close();
    Config cfg = j14_config(peer.port(), 2s);
    cfg.password = "WRONG";
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c) && rec.has(ev::SHUTDOWN_FINISH); }));
    CHECK(join(rec.names()) ==
          "PCJ_CONNECT PCJ_CONNECTING PCJ_CONNECTED PCJ_STREAMSTART PCJ_AUTHNEGOTIATE "
          "PCJ_AUTHFAIL PCJ_STREAMEND PCJ_SHUTDOWN_START PCJ_SOCKETDISCONNECT "
          "PCJ_SHUTDOWN_FINISH");
    const Seen* fail = rec.last(ev::AUTHFAIL);
    REQUIRE(fail);
    REQUIRE(fail->reason);
    CHECK(fail->reason->condition == "not-authorized");
    CHECK(fail->reason->text == "Given token does not match");
    // PCJ took the stream end for a new stream and sent a second handshake.
    const std::string wire = peer.all_received();
    CHECK(wire.find("<handshake>") == wire.rfind("<handshake>"));
    CHECK(c.jid().empty());
    CHECK_FALSE(peer.failed());
}

TEST_CASE("j14: the server closing the socket during the handshake is an AUTHFAIL",
          "[protocol][j14]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream").send(component_header).expect("<handshake>").close();
    Component c(j14_config(peer.port(), 2s), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK(join(rec.names()) == "PCJ_CONNECT PCJ_CONNECTING PCJ_CONNECTED PCJ_STREAMSTART "
                               "PCJ_AUTHNEGOTIATE PCJ_SOCKETFAIL PCJ_AUTHFAIL "
                               "PCJ_SOCKETDISCONNECT");
    const Seen* sf = rec.last(ev::SOCKETFAIL);
    REQUIRE(sf);
    REQUIRE(sf->reason);
    CHECK(sf->reason->op == "read");
    CHECK(sf->reason->code == 0);
}

TEST_CASE("j14: a stream end during the handshake fails once, with no second handshake",
          "[protocol][j14]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(component_header)
        .expect("<handshake>")
        .send("</stream:stream>")
        .expect("</stream:stream>")
        .close();
    Component c(j14_config(peer.port(), 2s), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK(rec.count(ev::AUTHFAIL) == 1);
    CHECK(rec.count(ev::AUTHNEGOTIATE) == 1);
    CHECK(rec.last(ev::AUTHFAIL)->reason->condition == "stream-closed");
    CHECK(rec.count(ev::SHUTDOWN_FINISH) == 1);
    const std::string wire = peer.all_received();
    CHECK(wire.find("<handshake>") == wire.rfind("<handshake>"));
}

TEST_CASE("j14: unexpected replies to the handshake are authentication failures",
          "[protocol][j14]") {
    auto [reply, condition] = GENERATE(table<std::string, std::string>({
        {"<handshake>0000</handshake>", "invalid-handshake"},
        {"<message to='x'/>", "unexpected-element"},
    }));
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream").send(component_header).expect("<handshake>").send(reply);
    Component c(j14_config(peer.port(), 2s), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.has(ev::AUTHFAIL); }));
    CHECK(rec.last(ev::AUTHFAIL)->reason->condition == condition);
    CHECK_FALSE(rec.has(ev::READY));
    peer.stop();
    REQUIRE(f.run_until([&] { return ended(c); }));
}

TEST_CASE("j14: a header without a stream id cannot be answered and fails", "[protocol][j14]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send("<stream:stream xmlns='jabber:component:accept' "
              "xmlns:stream='http://etherx.jabber.org/streams'>");
    Component c(j14_config(peer.port(), 2s), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.has(ev::AUTHFAIL); }));
    CHECK(rec.last(ev::AUTHFAIL)->reason->condition == "invalid-id");
    CHECK(peer.all_received().find("<handshake>") == std::string::npos);
    peer.stop();
    REQUIRE(f.run_until([&] { return ended(c); }));
}

TEST_CASE("j14: a server that never answers the handshake times out with AUTHFAIL",
          "[protocol][j14]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream").send(component_header).expect("<handshake>").wait_close();
    Config cfg = j14_config(peer.port(), 2s);
    cfg.negotiation_timeout = 200ms;
    cfg.shutdown_timeout = 200ms;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }, 5s));
    REQUIRE(rec.has(ev::AUTHFAIL));
    CHECK(rec.last(ev::AUTHFAIL)->reason->condition == "timeout");
    CHECK(rec.count(ev::SHUTDOWN_FINISH) == 1);
}

TEST_CASE("j14: a server that sends a DTD is refused before any handshake",
          "[protocol][j14][xml]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send("<?xml version='1.0'?><!DOCTYPE stream:stream [<!ENTITY lol 'lol'>"
              "<!ENTITY lol2 '&lol;&lol;&lol;&lol;'>]>" +
              component_header.substr(21))
        .wait_close();
    Component c(j14_config(peer.port(), 2s), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    const Seen* sf = rec.last(ev::SOCKETFAIL);
    REQUIRE(sf);
    CHECK(sf->reason->op == "xml");
    CHECK(sf->reason->condition == "restricted-xml");
    REQUIRE(rec.has(ev::AUTHFAIL));
    CHECK_FALSE(rec.has(ev::AUTHNEGOTIATE));
    CHECK(peer.all_received().find("<handshake>") == std::string::npos);
}

TEST_CASE("j14: a stanza over the configured size ends the stream with policy-violation",
          "[protocol][j14][xml]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(component_header)
        .expect("<handshake>")
        .send("<handshake/>")
        .send("<message><body>" + std::string(8192, 'x') + "</body></message>")
        .wait_close();
    Config cfg = j14_config(peer.port(), 2s);
    cfg.max_stanza_size = 4096;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    REQUIRE(rec.has(ev::READY));
    const Seen* sf = rec.last(ev::SOCKETFAIL);
    REQUIRE(sf);
    CHECK(sf->reason->condition == "policy-violation");
    CHECK_FALSE(rec.has(ev::NODERECEIVED));
}

TEST_CASE(
    "j14: after a quiet spell frees the parser, the next stanzas keep the stream's namespaces",
    "[protocol][j14][trim]") {
    // The stream header declares the default namespace and a prefix that stanzas use; an idle
    // connection's parser is freed and a new one must be primed with that header again.
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send("<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
              "xmlns:stream='http://etherx.jabber.org/streams' "
              "xmlns:x='urn:example:x' id='3BF96D32' from='component.localhost'>")
        .expect(expected_handshake)
        .send("<handshake/><message to='a@component.localhost' id='m1'><body>one</body>"
              "</message>")
        .pause(2500ms) // over the 1 s quiet period twice: the parser is freed meanwhile
        .send("<message to='a@component.localhost' id='m2'><x:tag x:attr='v'/><body>two</body>"
              "</message>");
    Component c(j14_config(peer.port(), 2s), f.loop());
    std::vector<Node> got;
    auto sub = c.subscribe(ev::NODERECEIVED, [&](const Event& e) { got.push_back(*e.node); });
    c.connect();
    REQUIRE(f.run_until([&] { return got.size() == 2 || ended(c); }, 10s));
    REQUIRE(got.size() == 2);
    CHECK(got[0].attr("id") == "m1");
    CHECK(got[1].attr("id") == "m2");
    CHECK(got[1].ns() == "jabber:component:accept");
    const Node* tag = got[1].child("x:tag");
    REQUIRE(tag != nullptr);
    CHECK(tag->ns() == "urn:example:x");
    CHECK(tag->attr("x:attr") == "v");
    REQUIRE(got[1].child("body") != nullptr);
    CHECK(got[1].child("body")->text() == "two");
    CHECK(c.sid() == "3BF96D32");
    CHECK(c.ready());
    CHECK_FALSE(peer.failed());
    shutdown_and_wait(f, c);
}
