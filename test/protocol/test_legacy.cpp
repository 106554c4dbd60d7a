// LEGACY (jabber:iq:auth) against a scripted server: the method choice, Prosody's false
// success, error conditions, and the TLS decisions on streams that may have no features.
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

// A pre-XMPP server header: no version, so (ejabberd, jabberd2) no features follow.
const std::string header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                           "xmlns:stream='http://etherx.jabber.org/streams' id='legacysid123' "
                           "from='localhost'>";
// hex SHA-1("legacysid123" + "pass")
const std::string expected_digest = "<digest>3836a469625a48beb14bcc1d8b5d9e29769ba40e</digest>";
const std::string all_fields = "<iq type='result' id='$ID'><query xmlns='jabber:iq:auth'>"
                               "<username/><password/><digest/><resource/></query></iq>";
// What Prosody answers to the get: no <digest/>.
const std::string prosody_fields = "<iq type='result' id='$ID'><query xmlns='jabber:iq:auth'>"
                                   "<username/><password/><resource/></query></iq>";
const std::string success = "<iq type='result' id='$ID'/>";

// An XMPP 1.0 server header: features follow it.
const std::string header_1_0 = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                               "xmlns:stream='http://etherx.jabber.org/streams' "
                               "id='legacysid123' from='localhost' version='1.0'>";
const std::string features_without_tls =
    "<stream:features><auth xmlns='http://jabber.org/features/iq-auth'/></stream:features>";

// The client's </stream:stream>: the peer closes at once, so no shutdown waits its timeout.
const std::string end = "</stream:stream>";

} // namespace

TEST_CASE("legacy: digest is used when offered, and jid is set only once the server accepts",
          "[protocol][legacy]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(header)
        .expect("<username>user</username></query></iq>")
        .send(all_fields)
        .expect("<resource>res</resource></query></iq>")
        .send(success)
        .expect(end)
        .close();
    Component c(legacy_config(peer.port()), f.loop());
    Recorder rec(c);
    std::string jid_before, jid_at_ready;
    auto s1 = c.subscribe(ev::AUTHNEGOTIATE, [&](const Event&) { jid_before = c.jid(); });
    auto s2 = c.subscribe(ev::READY, [&](const Event&) { jid_at_ready = c.jid(); });
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    CHECK(join(rec.names()) == "PCJ_CONNECT PCJ_CONNECTING PCJ_CONNECTED PCJ_STREAMSTART "
                               "PCJ_AUTHNEGOTIATE PCJ_AUTHSUCCESS PCJ_READY");
    CHECK(jid_before.empty());
    CHECK(jid_at_ready == "user@localhost/res");
    CHECK(c.sid() == "legacysid123");
    const std::string wire = peer.all_received();
    CHECK(contains(wire, "<username>user</username>" + expected_digest + "<resource>res"));
    CHECK_FALSE(contains(wire, "<password>"));
    CHECK_FALSE(contains(wire, "version=")); // jabberd2 refuses PCJ's version='0.9'
    CHECK(contains(wire, "xmlns=\"jabber:client\""));
    shutdown_and_wait(f, c);
}

TEST_CASE("legacy: a plaintext password is sent only over TLS or when the configuration allows "
          "it",
          "[protocol][legacy]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    Config cfg = legacy_config(peer.port());
    SECTION("not allowed: AUTHFAIL before the password leaves") {
        peer.expect("<stream:stream")
            .send(header)
            .expect("</iq>")
            .send(prosody_fields)
            .expect(end)
            .close();
        Component c(cfg, f.loop());
        Recorder rec(c);
        c.connect();
        REQUIRE(f.run_until([&] { return ended(c); }));
        const Seen* fail = rec.last(ev::AUTHFAIL);
        REQUIRE(fail);
        CHECK(fail->reason->condition == "no-acceptable-mechanism");
        CHECK(contains(fail->reason->text, "not encrypted"));
        CHECK_FALSE(contains(peer.all_received(), "pass<"));
        CHECK_FALSE(rec.has(ev::READY));
    }
    SECTION("allowed: the password goes out and the login succeeds") {
        cfg.sasl.allow_plaintext_password = true;
        peer.expect("<stream:stream")
            .send(header)
            .expect("</iq>")
            .send(prosody_fields)
            .expect("<password>pass</password><resource>res</resource>")
            .send(success)
            .expect(end)
            .close();
        Component c(cfg, f.loop());
        Recorder rec(c);
        c.connect();
        REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
        CHECK(c.ready());
        CHECK(c.jid() == "user@localhost/res");
        shutdown_and_wait(f, c);
    }
}

TEST_CASE("legacy: sasl.mechanisms restricts the method to DIGEST or PLAIN", "[protocol][legacy]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    Config cfg = legacy_config(peer.port());
    SECTION("DIGEST only, the server offers no digest: AUTHFAIL naming the restriction") {
        cfg.sasl.mechanisms = {"DIGEST"};
        cfg.sasl.allow_plaintext_password = true;
        peer.expect("<stream:stream")
            .send(header)
            .expect("</iq>")
            .send(prosody_fields)
            .expect(end)
            .close();
        Component c(cfg, f.loop());
        Recorder rec(c);
        c.connect();
        REQUIRE(f.run_until([&] { return ended(c); }));
        const Seen* fail = rec.last(ev::AUTHFAIL);
        REQUIRE(fail);
        CHECK(fail->reason->condition == "no-acceptable-mechanism");
        CHECK(contains(fail->reason->text, "allows only DIGEST"));
        CHECK_FALSE(contains(peer.all_received(), "<password>"));
    }
    SECTION("PLAIN only: the password even though digest is offered") {
        cfg.sasl.mechanisms = {"PLAIN"};
        cfg.sasl.allow_plaintext_password = true;
        peer.expect("<stream:stream")
            .send(header)
            .expect("</iq>")
            .send(all_fields)
            .expect("<password>pass</password>")
            .send(success)
            .expect(end)
            .close();
        Component c(cfg, f.loop());
        Recorder rec(c);
        c.connect();
        REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
        CHECK(c.ready());
        CHECK_FALSE(contains(peer.all_received(), "<digest>"));
        shutdown_and_wait(f, c);
    }
}

TEST_CASE("legacy: a result that carries the field form again (Prosody's answer to <digest/>) "
          "is AUTHFAIL, never READY",
          "[protocol][legacy]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(header)
        .expect("</iq>")
        .send(all_fields)
        .expect(expected_digest)
        .send(prosody_fields)
        .expect(end)
        .close();
    Component c(legacy_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK_FALSE(rec.has(ev::READY));
    CHECK_FALSE(rec.has(ev::AUTHSUCCESS));
    const Seen* fail = rec.last(ev::AUTHFAIL);
    REQUIRE(fail);
    CHECK(fail->reason->condition == "unexpected-result");
    CHECK(contains(fail->reason->text, "not logged in"));
    CHECK(contains(fail->reason->text, "<digest/>"));
    CHECK(c.jid().empty());
    CHECK(rec.count(ev::SHUTDOWN_FINISH) == 1);
}

TEST_CASE("legacy: an error answer is AUTHFAIL with its condition, from the element or the old "
          "numeric code",
          "[protocol][legacy]") {
    using Row = std::tuple<std::string, std::string, int, std::string>;
    auto [reply, condition, code,
          text] = GENERATE(table<std::string, std::string, int, std::string>({
        // ejabberd, wrong password
        Row{"<iq type='error' id='$ID'><error type='auth'><not-authorized "
            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
            "not-authorized", 0, "the server refused the login: not-authorized"},
        // jabberd2, wrong password: a code alone, and the query (with our credential) echoed
        Row{"<iq type='error' id='$ID'><error code='401'/><query xmlns='jabber:iq:auth'>"
            "<username>user</username><password>pass</password></query></iq>",
            "not-authorized", 401, "the server refused the login: not-authorized"},
        // resource in use
        Row{"<iq type='error' id='$ID'><error code='409' type='cancel'><conflict "
            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
            "conflict", 409, "the server refused the login: conflict"},
        // Prosody on a host that requires encryption
        Row{"<iq type='error' id='$ID'><error type='modify'><not-acceptable "
            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Encryption (SSL or TLS) is required to "
            "connect to this server</text></error></iq>",
            "not-acceptable", 0, "Encryption (SSL or TLS) is required to connect to this server"},
    }));
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(header)
        .expect("</iq>")
        .send(all_fields)
        .expect("<digest>")
        .send(reply)
        .expect(end)
        .close();
    Component c(legacy_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK_FALSE(rec.has(ev::READY));
    REQUIRE(rec.count(ev::AUTHFAIL) == 1);
    const Reason& r = *rec.last(ev::AUTHFAIL)->reason;
    CHECK(r.condition == condition);
    CHECK(r.code == code);
    CHECK(r.text == text);
    CHECK_FALSE(contains(r.text, "pass")); // never the echoed credential
    CHECK(c.jid().empty());
}

TEST_CASE("legacy: an error answer to the get is AUTHFAIL before any credential",
          "[protocol][legacy]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(header)
        .expect("</iq>")
        .send("<iq type='error' id='$ID'><error code='400' type='modify'><bad-request "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
        .expect(end)
        .close();
    Component c(legacy_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    REQUIRE(rec.has(ev::AUTHFAIL));
    CHECK(rec.last(ev::AUTHFAIL)->reason->condition == "bad-request");
    CHECK_FALSE(contains(peer.all_received(), "<digest>"));
}

TEST_CASE("legacy: TLS required but not offered fails with SSLFAIL before any credential or "
          "the username is sent",
          "[protocol][legacy][tls]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    SECTION("no features at all (ejabberd, jabberd2): decided when the probe is answered") {
        peer.expect("<stream:stream")
            .send(header)
            .expect("<query xmlns=\"jabber:iq:auth\"/></iq>")
            .send(all_fields)
            .expect(end)
            .close();
    }
    SECTION("features without starttls: decided at once") {
        peer.expect("<stream:stream")
            .send(header + "<stream:features><auth xmlns='http://jabber.org/features/iq-auth'/>"
                           "</stream:features>")
            .expect(end)
            .close();
    }
    Config cfg = legacy_config(peer.port());
    cfg.tls.policy = TlsPolicy::required;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    const Seen* fail = rec.last(ev::SSLFAIL);
    REQUIRE(fail);
    CHECK(fail->reason->condition == "tls-not-offered");
    CHECK_FALSE(rec.has(ev::AUTHNEGOTIATE));
    CHECK_FALSE(rec.has(ev::AUTHFAIL));
    const std::string wire = peer.all_received();
    CHECK_FALSE(contains(wire, "<username>"));
    CHECK_FALSE(contains(wire, "<digest>"));
    CHECK_FALSE(contains(wire, "<password>"));
}

TEST_CASE("legacy: with TLS optional and no STARTTLS offered, the login goes on in the clear",
          "[protocol][legacy][tls]") {
    // A pre-XMPP answer (no features: the get is the probe), or an XMPP 1.0 answer whose
    // features lack <starttls/> (the get follows them).
    const std::string opening =
        GENERATE(as<std::string>{}, header, header_1_0 + features_without_tls);
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(opening)
        .expect("<username>user</username></query></iq>")
        .send(all_fields)
        .expect(expected_digest)
        .send(success)
        .expect(end)
        .close();
    Config cfg = legacy_config(peer.port());
    cfg.tls.policy = TlsPolicy::optional;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    CHECK(c.ready());
    CHECK(join(rec.names()) == "PCJ_CONNECT PCJ_CONNECTING PCJ_CONNECTED PCJ_STREAMSTART "
                               "PCJ_AUTHNEGOTIATE PCJ_AUTHSUCCESS PCJ_READY");
    const std::string wire = peer.all_received();
    CHECK(contains(wire, "version=\"1.0\"")); // STARTTLS may be negotiated: ask for features
    // One get, not a probe and then a second get.
    CHECK(wire.find("type=\"get\"") == wire.rfind("type=\"get\""));
    shutdown_and_wait(f, c);
}

TEST_CASE("legacy: offered STARTTLS is used; the probe's late answer is ignored and a refusal "
          "is SSLFAIL",
          "[protocol][legacy][tls]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    // Prosody: features even on a pre-XMPP stream. The server answers the probe before it
    // reads <starttls/>, then refuses TLS.
    peer.expect("<stream:stream")
        .send(header + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
                       "</stream:features>")
        .expect("<starttls")
        .send(prosody_fields)
        .send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>")
        .expect(end)
        .close();
    Config cfg = legacy_config(peer.port());
    cfg.tls.policy = TlsPolicy::optional;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK(join(rec.names()).find("PCJ_STREAMSTART PCJ_SSLNEGOTIATE PCJ_SSLFAIL") !=
          std::string::npos);
    CHECK(rec.last(ev::SSLFAIL)->reason->condition == "starttls-refused");
    CHECK_FALSE(rec.has(ev::AUTHNEGOTIATE));
    CHECK_FALSE(contains(peer.all_received(), "<password>"));
}

TEST_CASE("legacy: a server that never answers the login ends in AUTHFAIL timeout",
          "[protocol][legacy]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream").send(header).expect("</iq>").expect(end).close();
    Config cfg = legacy_config(peer.port());
    cfg.negotiation_timeout = 200ms;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }, 5s));
    REQUIRE(rec.has(ev::AUTHFAIL));
    CHECK(rec.last(ev::AUTHFAIL)->reason->condition == "timeout");
    CHECK_FALSE(rec.has(ev::READY));
}

TEST_CASE("legacy: a stream end during the login fails once, with no second login attempt",
          "[protocol][legacy]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(header)
        .expect("</iq>")
        .send("<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
              "</stream:error></stream:stream>")
        .expect(end)
        .close();
    Component c(legacy_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK(rec.count(ev::AUTHFAIL) == 1);
    CHECK(rec.last(ev::AUTHFAIL)->reason->condition == "not-authorized");
    CHECK(rec.count(ev::AUTHNEGOTIATE) == 1);
    CHECK(c.queue().empty()); // PCJ queued a second auth iq with the password
    const std::string wire = peer.all_received();
    CHECK(wire.find("jabber:iq:auth") == wire.rfind("jabber:iq:auth"));
}

TEST_CASE("legacy: TLS required and an XMPP 1.0 server without STARTTLS: SSLFAIL, with no iq "
          "sent",
          "[protocol][legacy][tls]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("version=\"1.0\"").send(header_1_0).send(features_without_tls).expect(end).close();
    Config cfg = legacy_config(peer.port());
    cfg.tls.policy = TlsPolicy::required;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    REQUIRE(rec.has(ev::SSLFAIL));
    CHECK(rec.last(ev::SSLFAIL)->reason->condition == "tls-not-offered");
    // The features were awaited: nothing was sent before them (no probe).
    CHECK_FALSE(contains(peer.all_received(), "<iq"));
}
