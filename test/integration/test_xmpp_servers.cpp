// XMPP client end to end against real Prosody, ejabberd and jabberd2 (router + sm + c2s):
// every mechanism each offers, STARTTLS required / optional, Direct TLS, and the failures.
#include <catch2/catch.hpp>

#include "configs.hpp"
#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "servers.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

ServerPool servers;

struct Case {
    ServerKind kind;
    std::string port_key;
    std::string domain_key;
    TlsPolicy policy;
    std::string mechanism;     // forced through the allow-list
    std::string priority = {}; // GnuTLS priority string, e.g. to force TLS 1.2
};

std::string describe(const Case& c) {
    return to_string(c.kind) + " " + c.port_key + " " + c.domain_key +
           " tls=" + std::string(to_string(c.policy)) + " " + c.mechanism;
}

Config client_config(const TestServer& s, const Case& k) {
    Config c = c2s_config(s, ConnectionType::XMPP, "pcjtest");
    c.port = s.port(k.port_key);
    c.hostname = s.get(k.domain_key);
    c.tls.policy = k.policy;
    if (!k.mechanism.empty()) {
        c.sasl.mechanisms = {k.mechanism};
    }
    c.tls.priority = k.priority;
    return c;
}

// Logs in, sends itself a message, asks the server for disco#info through return_to_sender,
// and shuts down cleanly.
void login_round_trip(const Case& k) {
    INFO(describe(k));
    TestServer& s = servers.get(k.kind);
    LoopFixture f;
    settle(f, k.kind);
    Config cfg = client_config(s, k);
    Component c(cfg, f.loop());
    Recorder rec(c);
    std::string jid_at_ready;
    auto on_ready = c.subscribe(ev::READY, [&](const Event&) { jid_at_ready = c.jid(); });
    c.add_filter("echo", "/message[body='xmpp round trip']");
    connect_ready(f, c, rec, 20s);
    CHECK(jid_at_ready.rfind(cfg.username + "@" + cfg.hostname + "/", 0) == 0);
    if (k.policy != TlsPolicy::disabled) {
        CHECK(rec.has(ev::SSLSUCCESS) == (k.policy != TlsPolicy::direct));
    }
    if (!k.mechanism.empty()) {
        // AUTHNEGOTIATE, and the mechanism is the forced one.
        CHECK(rec.has(ev::AUTHSUCCESS));
    }

    c.output(build("message")
                 .attr("to", c.jid())
                 .attr("type", "chat")
                 .child(build("body").text("xmpp round trip")));
    REQUIRE(f.run_until([&] { return rec.has("echo"); }, 10s));

    Node iq = build("iq")
                  .attr("type", "get")
                  .attr("to", cfg.hostname)
                  .child(build("query", "http://jabber.org/protocol/disco#info"));
    c.return_to_sender(iq, "disco", 5s);
    REQUIRE(f.run_until([&] { return rec.has("disco"); }, 8s));
    const Seen* disco = rec.last("disco");
    REQUIRE(disco->node);
    CHECK(disco->node->attr("type") == "result");

    shutdown_and_wait(f, c, 8s);
    CHECK(rec.count(ev::SHUTDOWN_FINISH) == 1);
    CHECK_FALSE(rec.has(ev::SOCKETFAIL));
}

} // namespace

TEST_CASE("xmpp servers: Prosody — STARTTLS required and optional hosts, Direct TLS, each "
          "mechanism",
          "[integration][xmpp][prosody]") {
    const auto k = GENERATE(values<Case>({
        {ServerKind::prosody, "C2S_PORT", "DOMAIN", TlsPolicy::required, ""},
        {ServerKind::prosody, "C2S_PORT", "DOMAIN", TlsPolicy::required, "SCRAM-SHA-256"},
        {ServerKind::prosody, "C2S_PORT", "DOMAIN", TlsPolicy::required, "SCRAM-SHA-1"},
        {ServerKind::prosody, "C2S_PORT", "DOMAIN", TlsPolicy::required, "PLAIN"},
        {ServerKind::prosody, "C2S_PORT", "OPEN_DOMAIN", TlsPolicy::optional, ""},
        {ServerKind::prosody, "DIRECT_TLS_PORT", "DOMAIN", TlsPolicy::direct, ""},
    }));
    login_round_trip(k);
}

TEST_CASE("xmpp servers: ejabberd — every mechanism including -PLUS, the STARTTLS-required "
          "port, Direct TLS",
          "[integration][xmpp][ejabberd]") {
    const auto k = GENERATE(values<Case>({
        {ServerKind::ejabberd, "C2S_PORT", "DOMAIN", TlsPolicy::required, ""},
        // ejabberd 23.01 binds -PLUS to tls-unique only, which exists on TLS 1.2 alone.
        {ServerKind::ejabberd, "C2S_PORT", "DOMAIN", TlsPolicy::required, "SCRAM-SHA-256-PLUS",
         "NORMAL:-VERS-TLS1.3"},
        {ServerKind::ejabberd, "C2S_PORT", "DOMAIN", TlsPolicy::required, "SCRAM-SHA-1-PLUS",
         "NORMAL:-VERS-TLS1.3"},
        {ServerKind::ejabberd, "C2S_PORT", "DOMAIN", TlsPolicy::required, "",
         "NORMAL:-VERS-TLS1.3"},
        {ServerKind::ejabberd, "C2S_PORT", "DOMAIN", TlsPolicy::required, "SCRAM-SHA-256"},
        {ServerKind::ejabberd, "C2S_PORT", "DOMAIN", TlsPolicy::required, "SCRAM-SHA-1"},
        {ServerKind::ejabberd, "C2S_PORT", "DOMAIN", TlsPolicy::required, "DIGEST-MD5"},
        {ServerKind::ejabberd, "C2S_PORT", "DOMAIN", TlsPolicy::required, "PLAIN"},
        {ServerKind::ejabberd, "C2S_REQUIRED_PORT", "DOMAIN", TlsPolicy::required, ""},
        {ServerKind::ejabberd, "DIRECT_TLS_PORT", "DOMAIN", TlsPolicy::direct, ""},
    }));
    login_round_trip(k);
}

TEST_CASE("xmpp servers: jabberd2 — each mechanism, and READY right after bind (no session)",
          "[integration][xmpp][jabberd2]") {
    const auto k = GENERATE(values<Case>({
        {ServerKind::jabberd2, "C2S_PORT", "DOMAIN", TlsPolicy::required, ""},
        {ServerKind::jabberd2, "C2S_PORT", "DOMAIN", TlsPolicy::required, "SCRAM-SHA-256"},
        {ServerKind::jabberd2, "C2S_PORT", "DOMAIN", TlsPolicy::required, "SCRAM-SHA-1"},
        {ServerKind::jabberd2, "C2S_PORT", "DOMAIN", TlsPolicy::required, "DIGEST-MD5"},
        {ServerKind::jabberd2, "C2S_PORT", "DOMAIN", TlsPolicy::required, "PLAIN"},
    }));
    login_round_trip(k);
}

TEST_CASE("xmpp servers: jabberd2 offers no session, so BINDSUCCESS is followed by READY",
          "[integration][xmpp][jabberd2]") {
    TestServer& s = servers.get(ServerKind::jabberd2);
    LoopFixture f;
    settle(f, ServerKind::jabberd2);
    Component c(
        client_config(s, {ServerKind::jabberd2, "C2S_PORT", "DOMAIN", TlsPolicy::required, ""}),
        f.loop());
    Recorder rec(c);
    connect_ready(f, c, 20s);
    CHECK(join(rec.names()) ==
          "PCJ_CONNECT PCJ_CONNECTING PCJ_CONNECTED PCJ_STREAMSTART PCJ_SSLNEGOTIATE "
          "PCJ_SSLSUCCESS PCJ_STREAMSTART PCJ_AUTHNEGOTIATE PCJ_AUTHSUCCESS PCJ_STREAMSTART "
          "PCJ_BINDNEGOTIATE PCJ_BINDSUCCESS PCJ_READY");
    shutdown_and_wait(f, c, 8s);
}

TEST_CASE("xmpp servers: a wrong password is PCJ_AUTHFAIL not-authorized on every server",
          "[integration][xmpp][auth]") {
    const ServerKind kind =
        GENERATE(ServerKind::prosody, ServerKind::ejabberd, ServerKind::jabberd2);
    CAPTURE(to_string(kind));
    TestServer& s = servers.get(kind);
    LoopFixture f;
    settle(f, kind);
    Config cfg = client_config(s, {kind, "C2S_PORT", "DOMAIN", TlsPolicy::required, ""});
    cfg.password = "wrong-password";
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }, 20s));
    REQUIRE(rec.has(ev::AUTHFAIL));
    CHECK(rec.count(ev::AUTHFAIL) == 1);
    CHECK(rec.last(ev::AUTHFAIL)->reason->condition == "not-authorized");
    CHECK_FALSE(rec.has(ev::READY));
}

TEST_CASE("xmpp servers: a certificate from an unknown CA is PCJ_SSLFAIL ssl_invalid_chain",
          "[integration][xmpp][tls]") {
    TestServer& s = servers.get(ServerKind::prosody);
    LoopFixture f;
    Config cfg =
        client_config(s, {ServerKind::prosody, "C2S_PORT", "DOMAIN", TlsPolicy::required, ""});
    cfg.tls.ca_file.clear(); // the system trust store knows nothing of the test CA
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }, 15s));
    const Seen* fail = rec.last(ev::SSLFAIL);
    REQUIRE(fail);
    CHECK(fail->reason->condition == "ssl_invalid_chain");
    CHECK_FALSE(rec.has(ev::AUTHNEGOTIATE)); // no credential went out
}

TEST_CASE("xmpp servers: a certificate for another name is PCJ_SSLFAIL ssl_invalid_cert",
          "[integration][xmpp][tls]") {
    LoopFixture f;
    // Direct TLS checks the certificate before any stream header, so the server cannot refuse
    // the unknown domain first: the name check is what fails.
    // (Prosody answers an unknown SNI name with an alert; ejabberd presents its certificate.)
    TestServer& e = servers.get(ServerKind::ejabberd);
    Config cfg = client_config(
        e, {ServerKind::ejabberd, "DIRECT_TLS_PORT", "DOMAIN", TlsPolicy::direct, ""});
    cfg.hostname = "not-this-server.example";
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }, 15s));
    const Seen* fail = rec.last(ev::SSLFAIL);
    REQUIRE(fail);
    INFO(fail->reason->to_string());
    CHECK(fail->reason->condition == "ssl_invalid_cert");
    CHECK_FALSE(rec.has(ev::STREAMSTART));
}
