// LEGACY (jabber:iq:auth) end to end against real Prosody, ejabberd and jabberd2 (router + sm +
// c2s): plaintext and digest logins, STARTTLS where offered, and every way the login fails.
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
    std::string domain_key;
    TlsPolicy policy;
    std::string method;            // "DIGEST", "PLAIN" or "" (pcj's choice)
    std::string version = {};      // the stream header's version ("" = none)
    bool expect_tls = false;       // STARTTLS happens
    std::string sent_element = {}; // <digest> or <password>: what the login must have used
    std::string port_key = "C2S_PORT";
};

std::string describe(const Case& k) {
    return to_string(k.kind) + " " + k.domain_key + " tls=" + std::string(to_string(k.policy)) +
           " method=" + k.method + " version=" + k.version;
}

Config legacy_config(const TestServer& s, const Case& k) {
    Config c = c2s_config(s, ConnectionType::LEGACY, "pcjlegacy");
    c.port = s.port(k.port_key);
    c.hostname = s.get(k.domain_key);
    c.tls.policy = k.policy;
    if (!k.method.empty()) {
        c.sasl.mechanisms = {k.method};
    }
    // Only the cases that choose PLAIN without TLS need it; digest never does.
    c.sasl.allow_plaintext_password = k.method == "PLAIN" && k.policy == TlsPolicy::disabled;
    if (!k.version.empty()) {
        c.version = k.version;
    }
    c.negotiation_timeout = 10s;
    return c;
}

// Logs in, checks the event order and the method on the wire, sends itself a message (which
// only a really logged-in session gets back) and shuts down cleanly.
void login_round_trip(const Case& k) {
    INFO(describe(k));
    TestServer& s = servers.get(k.kind);
    LoopFixture f;
    settle(f, k.kind);
    Config cfg = legacy_config(s, k);
    Component c(cfg, f.loop());
    Recorder rec(c);
    std::string sent;
    auto tap = c.subscribe(ev::NODESENT, [&](const Event& e) { sent += e.node->to_string(); });
    c.add_filter("echo", "/message[body='legacy round trip']");
    connect_ready(f, c, rec, 15s);
    const std::string tls = k.expect_tls ? "PCJ_SSLNEGOTIATE PCJ_SSLSUCCESS PCJ_STREAMSTART " : "";
    CHECK(join(rec.names()) == "PCJ_CONNECT PCJ_CONNECTING PCJ_CONNECTED PCJ_STREAMSTART " + tls +
                                   "PCJ_AUTHNEGOTIATE PCJ_AUTHSUCCESS PCJ_READY");
    CHECK(c.jid() == cfg.username + "@" + cfg.hostname + "/pcjlegacy");
    if (!k.sent_element.empty()) {
        CHECK(sent.find(k.sent_element) != std::string::npos);
    }

    c.output(build("message")
                 .attr("to", c.jid())
                 .attr("type", "chat")
                 .child(build("body").text("legacy round trip")));
    REQUIRE(f.run_until([&] { return rec.has("echo") || ended(c); }, 10s));
    CHECK(rec.has("echo"));

    shutdown_and_wait(f, c, 8s);
    CHECK(rec.count(ev::SHUTDOWN_FINISH) == 1);
    CHECK_FALSE(rec.has(ev::SOCKETFAIL));
}

// A failed login: the event and condition expected, never READY.
void login_fails(const Case& k, const std::string& password, std::string_view event,
                 const std::string& condition) {
    INFO(describe(k));
    TestServer& s = servers.get(k.kind);
    LoopFixture f;
    settle(f, k.kind);
    Config cfg = legacy_config(s, k);
    if (!password.empty()) {
        cfg.password = password;
    }
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }, 15s));
    INFO("events: " << join(rec.names()) << "\nfailures: " << failures(rec));
    CHECK_FALSE(rec.has(ev::READY));
    CHECK_FALSE(rec.has(ev::AUTHSUCCESS));
    REQUIRE(rec.count(event) == 1);
    CHECK(rec.last(event)->reason->condition == condition);
    CHECK(c.jid().empty());
}

} // namespace

TEST_CASE("legacy servers: Prosody logs in with <password/>, over STARTTLS, Direct TLS, or in the "
          "clear when allowed",
          "[integration][legacy][prosody]") {
    const auto k = GENERATE(values<Case>({
        // Prosody sends features even on a pre-XMPP stream, so STARTTLS is found and used.
        {ServerKind::prosody, "OPEN_DOMAIN", TlsPolicy::required, "", "", true, "<password>"},
        {ServerKind::prosody, "OPEN_DOMAIN", TlsPolicy::optional, "", "", true, "<password>"},
        {ServerKind::prosody, "DOMAIN", TlsPolicy::required, "", "", true, "<password>"},
        {ServerKind::prosody, "OPEN_DOMAIN", TlsPolicy::disabled, "PLAIN", "", false, "<password>"},
        // Direct TLS: encrypted from the first byte, so no STARTTLS and no probe.
        {ServerKind::prosody, "DOMAIN", TlsPolicy::direct, "", "", false, "<password>",
         "DIRECT_TLS_PORT"},
    }));
    login_round_trip(k);
}

TEST_CASE("legacy servers: ejabberd and jabberd2 log in with <digest/> and with <password/>",
          "[integration][legacy][ejabberd][jabberd2]") {
    const ServerKind kind = GENERATE(ServerKind::ejabberd, ServerKind::jabberd2);
    const auto k = GENERATE_COPY(values<Case>({
        // TLS disabled: PCJ's header without version, no features; digest keeps the password
        // off the wire.
        {kind, "DOMAIN", TlsPolicy::disabled, "DIGEST", "", false, "<digest>"},
        {kind, "DOMAIN", TlsPolicy::disabled, "PLAIN", "", false, "<password>"},
        // With TLS possible the header carries version='1.0' by itself, which brings features,
        // hence STARTTLS, then iq:auth over TLS.
        {kind, "DOMAIN", TlsPolicy::optional, "", "", true, "<digest>"},
        {kind, "DOMAIN", TlsPolicy::required, "PLAIN", "", true, "<password>"},
    }));
    login_round_trip(k);
}

TEST_CASE("legacy servers: the defaults (TLS required, no version set) log in over STARTTLS on "
          "Prosody, ejabberd and jabberd2",
          "[integration][legacy][prosody][ejabberd][jabberd2][defaults]") {
    const auto k = GENERATE(values<Case>({
        {ServerKind::prosody, "DOMAIN", TlsPolicy::required, "", "", true, "<password>"},
        {ServerKind::ejabberd, "DOMAIN", TlsPolicy::required, "", "", true, "<digest>"},
        // ejabberd's port that refuses anything before <starttls/>: no probe may precede it.
        {ServerKind::ejabberd, "DOMAIN", TlsPolicy::required, "", "", true, "<digest>",
         "C2S_REQUIRED_PORT"},
        {ServerKind::jabberd2, "DOMAIN", TlsPolicy::required, "", "", true, "<digest>"},
    }));
    CHECK(Config().tls.policy == TlsPolicy::required); // what "the default" means here
    login_round_trip(k);
}

TEST_CASE("legacy servers: digest against Prosody is PCJ_AUTHFAIL with a clear reason, never "
          "READY",
          "[integration][legacy][prosody]") {
    TestServer& s = servers.get(ServerKind::prosody);
    LoopFixture f;
    Config cfg =
        legacy_config(s, {ServerKind::prosody, "OPEN_DOMAIN", TlsPolicy::disabled, "DIGEST"});
    Component c(cfg, f.loop());
    Recorder rec(c);
    std::string sent;
    auto tap = c.subscribe(ev::NODESENT, [&](const Event& e) { sent += e.node->to_string(); });
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }, 15s));
    CHECK_FALSE(rec.has(ev::READY));
    CHECK_FALSE(rec.has(ev::AUTHSUCCESS));
    REQUIRE(rec.count(ev::AUTHFAIL) == 1);
    const Reason& r = *rec.last(ev::AUTHFAIL)->reason;
    INFO(r.to_string());
    CHECK(r.condition == "no-acceptable-mechanism");
    CHECK(r.text.find("allows only DIGEST") != std::string::npos);
    CHECK(r.text.find("password") != std::string::npos); // what Prosody offers instead
    CHECK(sent.find("<password>") == std::string::npos);
    CHECK(c.jid().empty());
}

TEST_CASE("legacy servers: a wrong password is PCJ_AUTHFAIL not-authorized on every server",
          "[integration][legacy][auth]") {
    const auto k = GENERATE(values<Case>({
        {ServerKind::prosody, "OPEN_DOMAIN", TlsPolicy::required, ""},
        {ServerKind::prosody, "OPEN_DOMAIN", TlsPolicy::disabled, "PLAIN"},
        {ServerKind::ejabberd, "DOMAIN", TlsPolicy::optional, "DIGEST"},
        {ServerKind::ejabberd, "DOMAIN", TlsPolicy::disabled, "PLAIN"},
        {ServerKind::jabberd2, "DOMAIN", TlsPolicy::optional, "DIGEST"},
        {ServerKind::jabberd2, "DOMAIN", TlsPolicy::disabled, "PLAIN"},
    }));
    login_fails(k, "wrong-password", ev::AUTHFAIL, "not-authorized");
}

TEST_CASE("legacy servers: TLS required on a pre-XMPP stream without features is PCJ_SSLFAIL "
          "before any credential",
          "[integration][legacy][tls]") {
    // PCJ's own version='0.9': ejabberd answers a pre-XMPP stream, with no features.
    login_fails({ServerKind::ejabberd, "DOMAIN", TlsPolicy::required, "", "0.9"}, "", ev::SSLFAIL,
                "tls-not-offered");
}

TEST_CASE("legacy servers: Prosody's TLS-required host refuses a clear login with "
          "not-acceptable",
          "[integration][legacy][prosody]") {
    login_fails({ServerKind::prosody, "DOMAIN", TlsPolicy::disabled, "PLAIN"}, "", ev::AUTHFAIL,
                "not-acceptable");
}
