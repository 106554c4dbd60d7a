// JABBERD20_COMPONENT against a scripted router: SASL and its verification, the bind and its
// errors and timeout, the TLS policy, and route envelopes after READY.
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

const std::string digest_features =
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
    "<mechanism>DIGEST-MD5</mechanism></mechanisms></stream:features>";
// base64 of the router's challenge: realm="jabberd-router", nonce, qop=auth, md5-sess
const std::string digest_challenge =
    "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>cmVhbG09ImphYmJlcmQtcm91dGVyIixub25jZT0i"
    "WW5xZzEyWkhGWUlBaTNNMzQ1a25PZz09Iixxb3A9ImF1dGgiLGNoYXJzZXQ9dXRmLTgsYWxnb3JpdGhtPW1kNS1zZX"
    "Nz</challenge>";
const std::string j2_plain_auth = plain_auth + "</auth>";
const std::string ns = "http://jabberd.jabberstudio.org/ns/component/1.0";

// Up to the bind request.
ScriptedPeer& authenticate(ScriptedPeer& peer) {
    return sasl_plain(peer, j2_header, plain_only, "<stream:features/>", j2_plain_auth);
}

// The client's </stream:stream>: the peer closes at once, so no shutdown waits its timeout.
const std::string end = "</stream:stream>";

} // namespace

TEST_CASE("j2: authentication and bind reach READY in PCJ's order, with the bind domain as jid",
          "[protocol][j2]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    authenticate(peer)
        .expect("<bind name=\"user.localhost\" id=")
        .expect("/>")
        .send("<bind xmlns='" + ns + "' id='$ID'/>")
        .expect(end)
        .close();
    Component c(j2_config(peer.port()), f.loop());
    Recorder rec(c);
    std::string jid_at_ready;
    auto sub = c.subscribe(ev::READY, [&](const Event&) { jid_at_ready = c.jid(); });
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    CHECK(join(rec.names()) ==
          "PCJ_CONNECT PCJ_CONNECTING PCJ_CONNECTED PCJ_STREAMSTART PCJ_AUTHNEGOTIATE "
          "PCJ_AUTHSUCCESS PCJ_STREAMSTART PCJ_BINDNEGOTIATE PCJ_BINDSUCCESS PCJ_READY");
    CHECK(jid_at_ready == "user.localhost"); // username.hostname, as in PCJ
    CHECK(rec.count(ev::RTS_START) == 1);
    const std::string wire = peer.all_received();
    CHECK(contains(wire, "version=\"1.0\""));
    CHECK(contains(wire, "xmlns=\"" + ns + "\""));
    CHECK(contains(wire, "to=\"localhost\""));
    CHECK(contains(wire, "mechanism=\"PLAIN\">" + j2_plain_auth)); // PCJ sent no credentials
    shutdown_and_wait(f, c);
    CHECK(rec.count(ev::SHUTDOWN_FINISH) == 1); // PCJ's J2 never finished a shutdown
}

TEST_CASE("j2: the configured bind domain and bind option go into <bind/>", "[protocol][j2]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    authenticate(peer)
        .expect("<bind name=\"echo.localhost\" id=")
        .expect("<log/></bind>")
        .send("<bind xmlns='" + ns + "' id='$ID'/>")
        .expect(end)
        .close();
    Config cfg = j2_config(peer.port());
    cfg.bind_domain = "echo.localhost";
    cfg.bind_option = "log";
    Component c(cfg, f.loop());
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    CHECK(c.ready());
    CHECK(c.jid() == "echo.localhost");
    shutdown_and_wait(f, c);
}

TEST_CASE("j2: a bind refused with error='409' or '403' is PCJ_BINDFAIL carrying the code",
          "[protocol][j2][bind]") {
    const std::string code = GENERATE(std::string("409"), std::string("403"));
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    authenticate(peer)
        .expect("<bind")
        .expect("/>")
        .send("<bind xmlns='" + ns + "' name='user.localhost' id='$ID' error='" + code + "'/>")
        .expect(end)
        .close();
    Component c(j2_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK_FALSE(rec.has(ev::READY));
    CHECK_FALSE(rec.has(ev::BINDSUCCESS));
    REQUIRE(rec.count(ev::BINDFAIL) == 1);
    const Reason& r = *rec.last(ev::BINDFAIL)->reason;
    CHECK(r.condition == code);
    CHECK(r.code == std::stoi(code));
    CHECK(contains(r.text, "'user.localhost'"));
    CHECK(c.jid().empty());
    CHECK(rec.count(ev::SHUTDOWN_FINISH) == 1);
}

TEST_CASE("j2: a bind reply without the request's id does not hang: the negotiation timeout "
          "ends in PCJ_BINDFAIL",
          "[protocol][j2][bind]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    authenticate(peer).expect("<bind").send("<bind xmlns='" + ns + "'/>").expect(end).close();
    Config cfg = j2_config(peer.port());
    cfg.negotiation_timeout = 300ms;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }, 5s));
    CHECK_FALSE(rec.has(ev::READY));
    REQUIRE(rec.has(ev::BINDFAIL));
    CHECK(rec.last(ev::BINDFAIL)->reason->condition == "timeout");
    CHECK(c.pending().empty());
}

TEST_CASE("j2: DIGEST-MD5's rspauth inside <success/> is verified", "[protocol][j2][sasl]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    std::string success_data, condition;
    SECTION("a wrong rspauth") {
        // base64("rspauth=0123456789abcdef0123456789abcdef")
        success_data = "cnNwYXV0aD0wMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZg==";
        condition = "server-signature-mismatch";
    }
    SECTION("no rspauth at all") {
        condition = "server-signature-missing";
    }
    peer.expect("<stream:stream")
        .send(j2_header + digest_features)
        .expect("mechanism=\"DIGEST-MD5\"/>")
        .send(digest_challenge)
        .expect("</response>")
        .send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + success_data + "</success>")
        .expect(end)
        .close();
    Component c(j2_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK_FALSE(rec.has(ev::AUTHSUCCESS));
    REQUIRE(rec.has(ev::AUTHFAIL));
    CHECK(rec.last(ev::AUTHFAIL)->reason->condition == condition);
    CHECK(rec.count(ev::STREAMSTART) == 1); // no restart, no bind
    CHECK_FALSE(contains(peer.all_received(), "<bind"));
    // The response answered the router's realm.
    CHECK(contains(peer.all_received(), "<response xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">"));
}

TEST_CASE("j2: the router's SASL failure is PCJ_AUTHFAIL with its condition and text",
          "[protocol][j2][sasl]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(j2_header + plain_only)
        .expect(j2_plain_auth)
        .send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/>"
              "<text>Error authenticating user</text></failure>")
        .expect(end)
        .close();
    Component c(j2_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    REQUIRE(rec.count(ev::AUTHFAIL) == 1);
    CHECK(rec.last(ev::AUTHFAIL)->reason->condition == "not-authorized");
    CHECK(rec.last(ev::AUTHFAIL)->reason->text == "Error authenticating user");
    CHECK(join(rec.names()) ==
          "PCJ_CONNECT PCJ_CONNECTING PCJ_CONNECTED PCJ_STREAMSTART PCJ_AUTHNEGOTIATE "
          "PCJ_AUTHFAIL PCJ_STREAMEND PCJ_SHUTDOWN_START PCJ_SOCKETDISCONNECT "
          "PCJ_SHUTDOWN_FINISH");
}

TEST_CASE("j2: a router without STARTTLS is PCJ_SSLFAIL under the default policy, before any "
          "credential",
          "[protocol][j2][tls]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream").send(j2_header + digest_features).expect(end).close();
    Config cfg = j2_config(peer.port());
    cfg.tls.policy = TlsPolicy::required;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    REQUIRE(rec.has(ev::SSLFAIL));
    CHECK(rec.last(ev::SSLFAIL)->reason->condition == "tls-not-offered");
    CHECK_FALSE(rec.has(ev::AUTHNEGOTIATE));
    CHECK_FALSE(contains(peer.all_received(), "<auth"));
}

TEST_CASE("j2: after READY, routes reach filters and PCJ_NODERECEIVED, go out wrapped, and "
          "return_to_sender matches the id of the stanza inside",
          "[protocol][j2][route]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    authenticate(peer)
        .expect("<bind")
        .expect("/>")
        .send("<bind xmlns='" + ns + "' id='$ID'/>")
        .send("<route xmlns='" + ns +
              "' from='localhost' to='user.localhost'>"
              "<message xmlns='jabber:client' from='a@localhost/r' to='user.localhost'>"
              "<body>hello</body></message></route>")
        .expect("</route>")
        .send("<route xmlns='" + ns +
              "' from='localhost' to='user.localhost'>"
              "<iq xmlns='jabber:client' type='result' id='$ID' from='localhost' "
              "to='user.localhost'/></route>")
        .expect(end)
        .close();
    Component c(j2_config(peer.port()), f.loop());
    Recorder rec(c);
    c.ns_prefix("j2", ns);
    c.add_filter("hello", "/j2:route/message[body='hello']");
    c.connect();
    REQUIRE(f.run_until([&] { return rec.has(ev::NODERECEIVED) || ended(c); }));
    REQUIRE(rec.has("hello"));
    const Seen* in = rec.last(ev::NODERECEIVED);
    REQUIRE(in->node);
    const auto route = unwrap_route(*in->node);
    REQUIRE(route);
    CHECK(route->from == "localhost");
    CHECK(route->to == "user.localhost");
    CHECK(route->stanza.name() == "message");
    CHECK(route->stanza.ns() == "jabber:client");
    CHECK(route->stanza.child("body")->text() == "hello");

    Node iq = build("iq")
                  .attr("type", "get")
                  .attr("from", c.jid())
                  .attr("to", "localhost")
                  .child(build("query", "http://jabber.org/protocol/disco#info"));
    const std::string id = c.return_to_sender(wrap_route(iq, c.jid(), "localhost"), "disco", 2s);
    REQUIRE(f.run_until([&] { return rec.has("disco") || ended(c); }));
    const Seen* reply = rec.last("disco");
    REQUIRE(reply);
    REQUIRE(reply->node);
    CHECK(route_payload(*reply->node)->attr("id") == id);
    CHECK(rec.has(ev::RTS_FINISH));
    CHECK(rec.count(ev::NODERECEIVED) == 1);
    // The envelope takes the stream's namespace; the stanza inside is declared jabber:client.
    CHECK(contains(peer.all_received(), "<route from=\"user.localhost\" to=\"localhost\">"
                                        "<iq xmlns=\"jabber:client\" type=\"get\""));
    shutdown_and_wait(f, c);
}

TEST_CASE("j2: wrap_route and unwrap_route make and read the router's envelope",
          "[protocol][j2][route]") {
    Node message = build("message").attr("to", "a@localhost").child(build("body").text("hi"));
    const Node route = wrap_route(message, "echo.localhost", "sm");
    CHECK(is_route(route));
    CHECK(route.ns() == ns);
    CHECK(route.to_string(ns) == "<route from=\"echo.localhost\" to=\"sm\"><message "
                                 "xmlns=\"jabber:client\" to=\"a@localhost\"><body>hi</body>"
                                 "</message></route>");
    const auto parsed = Node::parse("<route xmlns='" + ns +
                                    "' error='404' to='x.localhost' from='echo.localhost'>\n"
                                    "<message xmlns='jabber:client'><body>hi</body></message>"
                                    "</route>");
    const auto r = unwrap_route(parsed);
    REQUIRE(r);
    CHECK(r->from == "echo.localhost");
    CHECK(r->to == "x.localhost");
    CHECK(r->error == "404");
    CHECK(r->type.empty());
    CHECK(r->stanza.name() == "message"); // the whitespace before it is skipped
    CHECK(route_payload(parsed) == &parsed.children()[1]);

    // A stanza with its own namespace keeps it; something else is not a route.
    const Node server = wrap_route(Node("message", "jabber:server"), "a", "b");
    CHECK(route_payload(server)->ns() == "jabber:server");
    CHECK_FALSE(unwrap_route(message));
    CHECK_FALSE(is_route(Node("route", "jabber:client")));
    CHECK(route_payload(Node("route", ns)) == nullptr);
}
