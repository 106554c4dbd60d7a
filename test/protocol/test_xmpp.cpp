// XMPP client against a scripted server: the branches real servers do not produce on demand —
// TLS required but not offered, bind conflicts and errors, malformed results, session errors.
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

// Up to the point where the client asks to bind.
ScriptedPeer& authenticate(ScriptedPeer& peer) {
    return sasl_plain(peer, client_header, plain_only, bind_session_features,
                      plain_auth + "</auth>");
}

} // namespace

TEST_CASE("xmpp: TLS required but not offered fails before any credential is sent",
          "[protocol][xmpp][tls]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream").send(client_header + plain_only).wait_close();
    Config cfg = xmpp_config(peer.port());
    cfg.tls.policy = TlsPolicy::required;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    const Seen* fail = rec.last(ev::SSLFAIL);
    REQUIRE(fail);
    CHECK(fail->reason->condition == "tls-not-offered");
    CHECK_FALSE(rec.has(ev::AUTHNEGOTIATE));
    CHECK(peer.all_received().find("<auth") == std::string::npos);
    CHECK(peer.all_received().find(plain_auth) == std::string::npos);
}

TEST_CASE("xmpp: a password is never sent in the clear unless the configuration allows it",
          "[protocol][xmpp][sasl]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream").send(client_header + plain_only).wait_close();
    Config cfg = xmpp_config(peer.port());
    cfg.sasl.allow_plaintext_password = false;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    REQUIRE(rec.has(ev::AUTHFAIL));
    CHECK(rec.last(ev::AUTHFAIL)->reason->condition == "no-acceptable-mechanism");
    CHECK(peer.all_received().find("<auth") == std::string::npos);
}

TEST_CASE("xmpp: a full clear-text login follows PCJ's event order, session included",
          "[protocol][xmpp]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    authenticate(peer)
        .expect("<resource>res</resource>")
        .send("<iq type='result' id='$ID'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
              "<jid>user@localhost/res</jid></bind></iq>")
        .expect("<session")
        .send("<iq type='result' id='$ID'/>");
    Component c(xmpp_config(peer.port()), f.loop());
    Recorder rec(c);
    std::string jid_at_ready;
    auto sub = c.subscribe(ev::READY, [&](const Event&) { jid_at_ready = c.jid(); });
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    CHECK(join(rec.names()) ==
          "PCJ_CONNECT PCJ_CONNECTING PCJ_CONNECTED PCJ_STREAMSTART PCJ_AUTHNEGOTIATE "
          "PCJ_AUTHSUCCESS PCJ_STREAMSTART PCJ_BINDNEGOTIATE PCJ_BINDSUCCESS "
          "PCJ_SESSIONNEGOTIATE PCJ_SESSIONSUCCESS PCJ_READY");
    CHECK(jid_at_ready == "user@localhost/res");
    CHECK(rec.count(ev::RTS_START) == 2); // bind and session, as in PCJ
    CHECK_FALSE(rec.has(ev::RTS_FINISH));
    // PLAIN's base64 has no line break or wrapping (PCJ sent a trailing newline).
    CHECK(peer.all_received().find(plain_auth + "</auth>") != std::string::npos);
    shutdown_and_wait(f, c);
}

TEST_CASE("xmpp: the strongest offered mechanism is chosen, whatever the server's order",
          "[protocol][xmpp][sasl]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(client_header +
              "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
              "<mechanism>PLAIN</mechanism><mechanism>DIGEST-MD5</mechanism>"
              "<mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>")
        .expect("</auth>")
        .send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/>"
              "<text>Unable to authorize you</text></failure>")
        .wait_close();
    Component c(xmpp_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK(peer.all_received().find("mechanism=\"SCRAM-SHA-1\"") != std::string::npos);
    const Seen* fail = rec.last(ev::AUTHFAIL);
    REQUIRE(fail);
    CHECK(fail->reason->condition == "not-authorized");
    CHECK(fail->reason->text == "Unable to authorize you");
    CHECK(rec.count(ev::AUTHFAIL) == 1); // no silent retry with a weaker mechanism
    CHECK(peer.all_received().find("mechanism=\"PLAIN\"") == std::string::npos);
}

TEST_CASE("xmpp: a mechanism forced by the configuration that the server lacks is AUTHFAIL",
          "[protocol][xmpp][sasl]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream").send(client_header + plain_only).wait_close();
    Config cfg = xmpp_config(peer.port());
    cfg.sasl.mechanisms = {"SCRAM-SHA-256"};
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    REQUIRE(rec.has(ev::AUTHFAIL));
    CHECK(rec.last(ev::AUTHFAIL)->reason->condition == "no-acceptable-mechanism");
}

TEST_CASE("xmpp: a bind conflict is retried with another resource", "[protocol][xmpp][bind]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    authenticate(peer)
        .expect("<resource>res</resource>")
        .send("<iq type='error' id='$ID'><error type='cancel'><conflict "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
        .expect("<resource>pcj-")
        .send("<iq type='result' id='$ID'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
              "<jid>user@localhost/other</jid></bind></iq>")
        .expect("<session")
        .send("<iq type='result' id='$ID'/>");
    Component c(xmpp_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    CHECK(c.ready());
    CHECK(c.jid() == "user@localhost/other");
    CHECK(rec.count(ev::BINDNEGOTIATE) == 1);
    CHECK_FALSE(rec.has(ev::BINDFAIL));
    shutdown_and_wait(f, c);
}

TEST_CASE("xmpp: bind and session failures end in their own events with the condition",
          "[protocol][xmpp][bind]") {
    using Row = std::tuple<std::string, std::string, std::string, std::string>;
    auto [bind_reply, session_reply, event, condition] =
        GENERATE(table<std::string, std::string, std::string, std::string>({
            Row{"<iq type='error' id='$ID'><error type='cancel'><not-allowed "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
                "", "PCJ_BINDFAIL", "not-allowed"},
            Row{"<iq type='error' id='$ID'><error type='auth'><forbidden "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
                "", "PCJ_BINDFAIL", "forbidden"},
            Row{"<iq type='result' id='$ID'/>", "", "PCJ_BINDFAIL", "malformed-result"},
            Row{"<iq type='result' id='$ID'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                "<jid>user@localhost/res</jid></bind></iq>",
                "<iq type='error' id='$ID'><error type='wait'><internal-server-error "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
                "PCJ_SESSIONFAIL", "internal-server-error"},
        }));
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    authenticate(peer).expect("<bind").send(bind_reply);
    if (!session_reply.empty()) {
        peer.expect("<session").send(session_reply);
    }
    peer.wait_close();
    Component c(xmpp_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK_FALSE(rec.has(ev::READY));
    const Seen* fail = rec.last(event);
    REQUIRE(fail);
    CHECK(fail->reason->condition == condition);
    CHECK(rec.count(ev::SHUTDOWN_FINISH) == 1);
}

TEST_CASE("xmpp: a stream error during negotiation fails that stage with its condition",
          "[protocol][xmpp]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(client_header +
              "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
              "</stream:error></stream:stream>")
        .wait_close();
    Component c(xmpp_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    REQUIRE(rec.has(ev::AUTHFAIL));
    CHECK(rec.last(ev::AUTHFAIL)->reason->condition == "host-unknown");
}

TEST_CASE("xmpp: a server that refuses STARTTLS ends in PCJ_SSLFAIL", "[protocol][xmpp][tls]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(client_header + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
                              "<required/></starttls></stream:features>")
        .expect("<starttls")
        .send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>")
        .wait_close();
    Config cfg = xmpp_config(peer.port());
    cfg.tls.policy = TlsPolicy::required;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK(join(rec.names()).find("PCJ_SSLNEGOTIATE PCJ_SSLFAIL") != std::string::npos);
    CHECK(rec.last(ev::SSLFAIL)->reason->condition == "starttls-refused");
    CHECK_FALSE(rec.has(ev::AUTHFAIL));
}
