// SaslClient against a GNU SASL server session in the same process: every mechanism, server
// verification, channel binding, mechanism choice and the SCRAM salted-password cache.
#include <catch2/catch.hpp>

#include <gsasl.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sasl.hpp"

using pcj::Reason;
using pcj::detail::SaslClient;
using pcj::detail::SaslOptions;
using pcj::detail::SaslStep;
using Kind = SaslStep::Kind;
using Binding = std::pair<std::string, std::string>;

namespace {

constexpr const char* user = "juliet";
constexpr const char* password = "r0m30-myr0m30";
constexpr const char* domain = "capulet.example";

// What the test server knows: the account, and the channel binding it sees on its side.
struct ServerConfig {
    std::string username = user;
    std::string password = ::password;
    std::string realm;      // DIGEST-MD5: the realm offered; empty offers none
    Binding binding;        // {type, raw bytes}
    std::string salt;       // SCRAM: base64 salt; empty lets gsasl pick one
    std::string iterations; // SCRAM: iteration count; empty lets gsasl pick
};

std::string base64(const std::string& raw) {
    char* out = nullptr;
    REQUIRE(gsasl_base64_to(raw.data(), raw.size(), &out, nullptr) == GSASL_OK);
    std::string s(out);
    gsasl_free(out);
    return s;
}

int set(Gsasl_session* s, Gsasl_property p, const std::string& v) {
    if (v.empty()) {
        return GSASL_NO_CALLBACK;
    }
    gsasl_property_set(s, p, v.c_str());
    return GSASL_OK;
}

std::string fast(Gsasl_session* s, Gsasl_property p) {
    const char* v = gsasl_property_fast(s, p);
    return v == nullptr ? std::string() : std::string(v);
}

int answer_binding(Gsasl_session* s, Gsasl_property p, const ServerConfig& c,
                   std::string_view type) {
    if (c.binding.first != type) {
        return GSASL_NO_CALLBACK;
    }
    return set(s, p, base64(c.binding.second));
}

int server_callback(Gsasl* /*ctx*/, Gsasl_session* s, Gsasl_property p) {
    const auto& c = *static_cast<const ServerConfig*>(gsasl_session_hook_get(s));
    switch (p) {
    case GSASL_PASSWORD:
        return fast(s, GSASL_AUTHID) == c.username ? set(s, p, c.password) : GSASL_NO_CALLBACK;
    case GSASL_VALIDATE_SIMPLE:
        return fast(s, GSASL_AUTHID) == c.username && fast(s, GSASL_PASSWORD) == c.password
                   ? GSASL_OK
                   : GSASL_AUTHENTICATION_ERROR;
    case GSASL_VALIDATE_EXTERNAL:
    case GSASL_VALIDATE_ANONYMOUS:
        return GSASL_OK;
    case GSASL_REALM:
        return set(s, p, c.realm);
    case GSASL_QOPS:
        return set(s, p, "qop-auth");
    case GSASL_SCRAM_SALT:
        return set(s, p, c.salt);
    case GSASL_SCRAM_ITER:
        return set(s, p, c.iterations);
    case GSASL_CB_TLS_EXPORTER:
        return answer_binding(s, p, c, "tls-exporter");
    case GSASL_CB_TLS_UNIQUE:
        return answer_binding(s, p, c, "tls-unique");
    default:
        return GSASL_NO_CALLBACK;
    }
}

// The server side: its own gsasl context, separate from the client's process-wide one.
Gsasl* server_context() {
    static Gsasl* const ctx = [] {
        Gsasl* c = nullptr;
        REQUIRE(gsasl_init(&c) == GSASL_OK);
        gsasl_callback_set(c, server_callback);
        return c;
    }();
    return ctx;
}

class TestServer {
public:
    TestServer(const std::string& mech, ServerConfig config) : config_(std::move(config)) {
        REQUIRE(gsasl_server_start(server_context(), mech.c_str(), &session_) == GSASL_OK);
        gsasl_session_hook_set(session_, &config_);
    }
    ~TestServer() { gsasl_finish(session_); }
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    int step(const std::string& in, std::string& out) {
        char* o = nullptr;
        std::size_t len = 0;
        const int rc = gsasl_step(session_, in.data(), in.size(), &o, &len);
        out = o == nullptr ? std::string() : std::string(o, len);
        gsasl_free(o);
        return rc;
    }

private:
    ServerConfig config_;
    Gsasl_session* session_ = nullptr;
};

// Where the server's last data goes: in <success/> (jabberd2, most SCRAM servers) or in a last
// <challenge/> answered by an empty <response/> before an empty <success/> (RFC 6120 §6.3.10).
enum class Final { in_success, as_challenge };

struct Exchange {
    std::string first;                  // the client's initial response
    std::vector<std::string> responses; // the client's answers to challenges
    int server_rc = GSASL_NEEDS_MORE;
    std::string server_final; // the data the server finished with, as delivered
    SaslStep client;          // the client's last result (finish's after <success/>)
    std::chrono::nanoseconds slowest_step{0};
};

// Drives one exchange the way the XMPP module does, with `tamper` applied to the server's
// final data on the way.
Exchange authenticate(SaslClient& client, TestServer& server, const std::string& mech,
                      const Binding& binding = {}, Final final = Final::in_success,
                      const std::function<void(std::string&)>& tamper = {}) {
    Exchange ex;
    SaslStep out = client.start(mech, binding);
    ex.first = out.data;
    for (int round = 0; round < 8 && out.kind == Kind::respond; ++round) {
        std::string challenge;
        ex.server_rc = server.step(out.data, challenge);
        if (ex.server_rc == GSASL_NEEDS_MORE) {
            const auto t0 = std::chrono::steady_clock::now();
            out = client.step(challenge);
            ex.slowest_step = std::max(ex.slowest_step, std::chrono::steady_clock::now() - t0);
            ex.responses.push_back(out.data);
            continue;
        }
        if (ex.server_rc != GSASL_OK) {
            break; // the server would send <failure/>
        }
        if (tamper) {
            tamper(challenge);
        }
        ex.server_final = challenge;
        if (final == Final::as_challenge && !challenge.empty()) {
            out = client.step(challenge);
            if (out.kind == Kind::failed || !out.data.empty()) {
                break;
            }
            challenge.clear();
        }
        out = client.finish(challenge);
        break;
    }
    ex.client = out;
    return ex;
}

SaslOptions options(std::string pass = password) {
    SaslOptions o;
    o.username = user;
    o.password = std::move(pass);
    o.hostname = domain;
    return o;
}

// Changes the character right after `marker` to another valid character of the same alphabet.
std::function<void(std::string&)> alter_after(std::string marker) {
    return [marker](std::string& s) {
        const auto at = s.find(marker);
        REQUIRE(at != std::string::npos);
        char& ch = s[at + marker.size()];
        ch = ch == 'a' ? 'b' : 'a';
    };
}

const Binding exporter{"tls-exporter", std::string("\x01\x02\x03 exporter bytes \xfe", 20)};
const Binding unique{"tls-unique", "finished-message-bytes"};

} // namespace

TEST_CASE("sasl: each mechanism authenticates against a gsasl server", "[sasl][exchange]") {
    auto [mech, binding] = GENERATE(table<std::string, Binding>({
        {"PLAIN", {}},
        {"DIGEST-MD5", {}},
        {"SCRAM-SHA-1", {}},
        {"SCRAM-SHA-256", {}},
        {"SCRAM-SHA-1-PLUS", exporter},
        {"SCRAM-SHA-256-PLUS", exporter},
        {"SCRAM-SHA-1-PLUS", unique},
        {"SCRAM-SHA-256-PLUS", unique},
    }));
    const Final final = GENERATE(Final::in_success, Final::as_challenge);
    CAPTURE(mech, binding.first, final == Final::in_success);
    ServerConfig config;
    config.binding = binding;
    TestServer server(mech, config);
    SaslClient client(options());
    const Exchange ex = authenticate(client, server, mech, binding, final);
    CHECK(ex.server_rc == GSASL_OK);
    CHECK(ex.client.kind == Kind::done);
    CHECK(ex.client.reason.condition.empty());
    CHECK(client.mechanism() == mech);
}

TEST_CASE("sasl: DIGEST-MD5 answers with the offered realm or else the domain", "[sasl][digest]") {
    const std::string realm = GENERATE(as<std::string>{}, "", domain, "other.example");
    CAPTURE(realm);
    ServerConfig config;
    config.realm = realm;
    TestServer server("DIGEST-MD5", config);
    SaslClient client(options());
    const Exchange ex = authenticate(client, server, "DIGEST-MD5");
    CHECK(ex.server_rc == GSASL_OK);
    CHECK(ex.client.kind == Kind::done);
    // XMPP sends DIGEST-MD5's <auth/> empty: the server speaks first.
    CHECK(ex.first.empty());
    REQUIRE_FALSE(ex.responses.empty());
    const std::string expected = realm.empty() ? std::string(domain) : realm;
    CHECK_THAT(ex.responses.front(), Catch::Contains("realm=\"" + expected + "\""));
    CHECK_THAT(ex.responses.front(), Catch::Contains("qop=auth,"));
    CHECK_THAT(ex.responses.front(), Catch::Contains("digest-uri=\"xmpp/capulet.example\""));
}

TEST_CASE("sasl: EXTERNAL and ANONYMOUS complete in their first message", "[sasl][exchange]") {
    SECTION("EXTERNAL sends the authzid, or nothing") {
        SaslOptions o = options();
        o.authzid = GENERATE(as<std::string>{}, "", "juliet@capulet.example");
        TestServer server("EXTERNAL", {});
        SaslClient client(o);
        const Exchange ex = authenticate(client, server, "EXTERNAL");
        CHECK(ex.first == o.authzid);
        CHECK(ex.client.kind == Kind::done);
    }
    SECTION("ANONYMOUS sends a trace token") {
        TestServer server("ANONYMOUS", {});
        SaslClient client(options());
        const Exchange ex = authenticate(client, server, "ANONYMOUS");
        CHECK(ex.first == user);
        CHECK(ex.client.kind == Kind::done);
    }
}

TEST_CASE("sasl: the authzid is sent only when configured", "[sasl][exchange]") {
    SaslOptions o = options();
    SECTION("PLAIN") {
        SaslClient plain(o);
        CHECK(plain.start("PLAIN").data == std::string("\0juliet\0r0m30-myr0m30", 21));
        o.authzid = "nurse@capulet.example";
        SaslClient with(o);
        CHECK(with.start("PLAIN").data ==
              std::string("nurse@capulet.example\0juliet\0r0m30-myr0m30", 42));
    }
    SECTION("SCRAM") {
        SaslClient scram(o);
        CHECK(scram.start("SCRAM-SHA-1").data.starts_with("n,,n=juliet,r="));
        o.authzid = "nurse@capulet.example";
        SaslClient with(o);
        CHECK(with.start("SCRAM-SHA-1").data.starts_with("n,a=nurse@capulet.example,n=juliet,"));
    }
}

TEST_CASE("sasl: a wrong password is refused by the server", "[sasl][failure]") {
    const std::string mech = GENERATE(as<std::string>{}, "PLAIN", "DIGEST-MD5", "SCRAM-SHA-1",
                                      "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS");
    CAPTURE(mech);
    ServerConfig config;
    config.binding = exporter;
    TestServer server(mech, config);
    SaslClient client(options("wrong password"));
    const Exchange ex = authenticate(client, server, mech, exporter);
    CHECK(ex.server_rc == GSASL_AUTHENTICATION_ERROR);
    CHECK(ex.client.kind != Kind::done);
}

TEST_CASE("sasl: a tampered SCRAM server signature fails with server-signature-mismatch",
          "[sasl][verify]") {
    const std::string mech =
        GENERATE(as<std::string>{}, "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS");
    const Final final = GENERATE(Final::in_success, Final::as_challenge);
    CAPTURE(mech, final == Final::in_success);
    ServerConfig config;
    config.binding = exporter;
    TestServer server(mech, config);
    SaslClient client(options());
    const Exchange ex = authenticate(client, server, mech, exporter, final, alter_after("v="));
    REQUIRE(ex.server_rc == GSASL_OK); // the server accepted the client's proof
    CHECK(ex.server_final.starts_with("v="));
    CHECK(ex.client.kind == Kind::failed);
    CHECK(ex.client.reason.op == "sasl");
    CHECK(ex.client.reason.condition == "server-signature-mismatch");
    CHECK_THAT(ex.client.reason.text, Catch::Contains("GSASL_AUTHENTICATION_ERROR"));
}

TEST_CASE("sasl: a SCRAM <success/> without the server signature is a failure", "[sasl][verify]") {
    TestServer server("SCRAM-SHA-256", {});
    SaslClient client(options());
    SaslStep out = client.start("SCRAM-SHA-256");
    std::string challenge;
    REQUIRE(server.step(out.data, challenge) == GSASL_NEEDS_MORE);
    out = client.step(challenge);
    REQUIRE(out.kind == Kind::respond);
    REQUIRE(server.step(out.data, challenge) == GSASL_OK);
    // The server-final "v=..." is dropped: an empty <success/> proves nothing.
    const SaslStep done = client.finish("");
    CHECK(done.kind == Kind::failed);
    CHECK(done.reason.condition == "server-signature-missing");
    CHECK_THAT(done.reason.text, Catch::Contains("did not prove"));
}

TEST_CASE("sasl: a SCRAM <success/> right after the first message is a failure", "[sasl][verify]") {
    SaslClient client(options());
    REQUIRE(client.start("SCRAM-SHA-1").kind == Kind::respond);
    CHECK(client.finish("").kind == Kind::failed);
}

TEST_CASE("sasl: a tampered DIGEST-MD5 rspauth fails with server-signature-mismatch",
          "[sasl][verify]") {
    const Final final = GENERATE(Final::in_success, Final::as_challenge);
    CAPTURE(final == Final::in_success);
    TestServer server("DIGEST-MD5", {});
    SaslClient client(options());
    const Exchange ex =
        authenticate(client, server, "DIGEST-MD5", {}, final, alter_after("rspauth="));
    REQUIRE(ex.server_rc == GSASL_OK);
    CHECK(ex.client.kind == Kind::failed);
    CHECK(ex.client.reason.condition == "server-signature-mismatch");
}

TEST_CASE("sasl: a DIGEST-MD5 <success/> before rspauth is a failure", "[sasl][verify]") {
    TestServer server("DIGEST-MD5", {});
    SaslClient client(options());
    SaslStep out = client.start("DIGEST-MD5");
    std::string challenge;
    REQUIRE(server.step(out.data, challenge) == GSASL_NEEDS_MORE);
    out = client.step(challenge);
    REQUIRE(out.kind == Kind::respond);
    const SaslStep done = client.finish("");
    CHECK(done.kind == Kind::failed);
    CHECK(done.reason.condition == "server-signature-missing");
}

TEST_CASE("sasl: PLAIN has no server proof, so data in its <success/> is refused",
          "[sasl][verify]") {
    SaslClient client(options());
    REQUIRE(client.start("PLAIN").kind == Kind::respond);
    const SaslStep done = client.finish("unexpected");
    CHECK(done.kind == Kind::failed);
    CHECK(done.reason.condition == "unexpected-success-data");
}

TEST_CASE("sasl: malformed challenges fail with malformed-challenge", "[sasl][failure]") {
    SECTION("DIGEST-MD5 challenge that is not a digest-challenge") {
        SaslClient client(options());
        REQUIRE(client.start("DIGEST-MD5").kind == Kind::respond);
        const SaslStep s = client.step("this is not a challenge");
        CHECK(s.kind == Kind::failed);
        CHECK(s.reason.condition == "malformed-challenge");
        CHECK(s.reason.code == GSASL_MECHANISM_PARSE_ERROR);
        // The client stays failed.
        CHECK(client.step("nonce=\"x\"").kind == Kind::failed);
        CHECK(client.finish("").kind == Kind::failed);
    }
    SECTION("SCRAM server-first whose nonce does not extend the client's") {
        SaslClient client(options());
        REQUIRE(client.start("SCRAM-SHA-1").kind == Kind::respond);
        const SaslStep s = client.step("r=someone-elses-nonce,s=QSXCR+Q6sek8bf92,i=4096");
        CHECK(s.kind == Kind::failed);
        CHECK(s.reason.condition == "malformed-challenge");
    }
}

TEST_CASE("sasl: calls out of order and missing inputs fail cleanly", "[sasl][failure]") {
    SECTION("step and finish before start") {
        SaslClient client(options());
        CHECK(client.step("x").kind == Kind::failed);
        CHECK(client.finish("").kind == Kind::failed);
    }
    SECTION("a -PLUS mechanism without channel binding data") {
        SaslClient client(options());
        const SaslStep s = client.start("SCRAM-SHA-256-PLUS");
        CHECK(s.kind == Kind::failed);
        CHECK(s.reason.condition == "channel-binding-unavailable");
    }
    SECTION("an unknown channel binding type") {
        SaslClient client(options());
        const SaslStep s = client.start("SCRAM-SHA-1-PLUS", {"tls-server-end-point", "x"});
        CHECK(s.kind == Kind::failed);
        CHECK(s.reason.condition == "channel-binding-unavailable");
    }
    SECTION("an unknown mechanism") {
        SaslClient client(options());
        const SaslStep s = client.start("X-NOT-A-MECHANISM");
        CHECK(s.kind == Kind::failed);
        CHECK(s.reason.condition == "unsupported-mechanism");
    }
    SECTION("PLAIN without a password") {
        SaslClient client(options(""));
        const SaslStep s = client.start("PLAIN");
        CHECK(s.kind == Kind::failed);
        CHECK(s.reason.condition == "missing-credentials");
        CHECK_THAT(s.reason.text, Catch::Contains("GSASL_NO_PASSWORD"));
    }
    SECTION("start twice") {
        SaslClient client(options());
        REQUIRE(client.start("PLAIN").kind == Kind::respond);
        CHECK(client.start("PLAIN").kind == Kind::failed);
    }
}

TEST_CASE("sasl: channel binding data that differs between the two ends fails", "[sasl][binding]") {
    const std::string mech = GENERATE(as<std::string>{}, "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS");
    CAPTURE(mech);
    ServerConfig config;
    SECTION("same type, different bytes") {
        config.binding = {"tls-exporter", "the server's view of the channel"};
    }
    SECTION("the server has no data of the client's type") {
        config.binding = {"tls-unique", "finished-message-bytes"};
    }
    TestServer server(mech, config);
    SaslClient client(options());
    const Exchange ex = authenticate(client, server, mech, exporter);
    CHECK(ex.first.starts_with("p=tls-exporter,,n=juliet,"));
    CHECK(ex.server_rc != GSASL_OK);
    CHECK(ex.server_rc != GSASL_NEEDS_MORE);
    CHECK(ex.client.kind != Kind::done);
}

TEST_CASE("sasl: plain SCRAM does not bind even when the client has binding data",
          "[sasl][binding]") {
    // The server offered no -PLUS variant; the GS2 header must stay consistent with c=.
    TestServer server("SCRAM-SHA-256", {});
    SaslClient client(options());
    const Exchange ex = authenticate(client, server, "SCRAM-SHA-256", exporter);
    CHECK(ex.first.starts_with("n,,"));
    CHECK(ex.server_rc == GSASL_OK);
    CHECK(ex.client.kind == Kind::done);
}

TEST_CASE("sasl: preference lists what gsasl supports, strongest first", "[sasl][choose]") {
    const std::vector<std::string> pref = SaslClient::preference();
    REQUIRE_FALSE(pref.empty());
    const std::vector<std::string> order = {
        "SCRAM-SHA-512-PLUS", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-512",
        "SCRAM-SHA-256",      "SCRAM-SHA-1",        "DIGEST-MD5",       "PLAIN",
        "EXTERNAL",           "ANONYMOUS"};
    auto at = order.begin();
    for (const auto& mech : pref) {
        at = std::find(at, order.end(), mech);
        CHECK(at != order.end()); // known, and after the previous one
    }
    // GNU SASL 2.2 implements all of these.
    for (const char* mech : {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1", "DIGEST-MD5", "PLAIN"}) {
        CHECK(std::find(pref.begin(), pref.end(), mech) != pref.end());
    }
    CHECK(pref.back() == "ANONYMOUS");
}

TEST_CASE("sasl: choose picks by pcj's preference, not the server's order", "[sasl][choose]") {
    SaslClient client(options());
    Reason why;
    CHECK(client.choose({"PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"}, true, false, &why) ==
          "SCRAM-SHA-256");
    CHECK(client.choose({"PLAIN", "DIGEST-MD5"}, true, false, &why) == "DIGEST-MD5");
    CHECK(client.choose({"ANONYMOUS", "PLAIN", "EXTERNAL"}, true, false, &why) == "PLAIN");
    // Names are exact: a lowercase name is not the mechanism.
    CHECK(client.choose({"scram-sha-1", "PLAIN"}, true, false, &why) == "PLAIN");
}

TEST_CASE("sasl: choose takes a -PLUS variant only with channel binding", "[sasl][choose]") {
    SaslClient client(options());
    const std::vector<std::string> offered = {"SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS",
                                              "SCRAM-SHA-256-PLUS"};
    CHECK(client.choose(offered, true, true, nullptr) == "SCRAM-SHA-256-PLUS");
    CHECK(client.choose(offered, true, false, nullptr) == "SCRAM-SHA-256");
    Reason why;
    CHECK_FALSE(client.choose({"SCRAM-SHA-1-PLUS"}, true, false, &why));
    CHECK(why.condition == "no-acceptable-mechanism");
    CHECK_THAT(why.text, Catch::Contains("SCRAM-SHA-1-PLUS needs TLS channel binding"));
}

TEST_CASE("sasl: choose respects the configured allow-list", "[sasl][choose]") {
    SaslOptions o = options();
    o.allowed = {"PLAIN", "SCRAM-SHA-1"};
    SaslClient client(o);
    Reason why;
    CHECK(client.choose({"SCRAM-SHA-256", "PLAIN"}, true, true, &why) == "PLAIN");
    CHECK(client.choose({"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"}, true, true, &why) ==
          "SCRAM-SHA-1");
    CHECK_FALSE(client.choose({"SCRAM-SHA-256", "DIGEST-MD5"}, true, true, &why));
    CHECK(why.op == "sasl");
    CHECK(why.condition == "no-acceptable-mechanism");
    CHECK_THAT(why.text, Catch::Contains("SCRAM-SHA-256 is not in the configured mechanisms"));
    CHECK_THAT(why.text, Catch::Contains("DIGEST-MD5 is not in the configured mechanisms"));
}

TEST_CASE("sasl: over an unencrypted stream no password mechanism unless allowed",
          "[sasl][choose]") {
    Reason why;
    SaslClient strict(options());
    CHECK_FALSE(strict.choose({"PLAIN"}, false, false, &why));
    CHECK(why.condition == "no-acceptable-mechanism");
    CHECK_THAT(why.text, Catch::Contains("the server offers PLAIN"));
    CHECK_THAT(why.text, Catch::Contains("PLAIN needs an encrypted stream"));
    CHECK_FALSE(strict.choose({"SCRAM-SHA-1", "DIGEST-MD5"}, false, false, &why));
    CHECK_THAT(why.text, Catch::Contains("SCRAM-SHA-1 needs an encrypted stream"));
    // Encryption makes them acceptable.
    CHECK(strict.choose({"PLAIN"}, true, false, &why) == "PLAIN");

    SaslOptions o = options();
    o.allow_plaintext_password = true;
    SaslClient lax(o);
    CHECK(lax.choose({"PLAIN"}, false, false, &why) == "PLAIN");
    CHECK(lax.choose({"PLAIN", "SCRAM-SHA-1"}, false, false, &why) == "SCRAM-SHA-1");
}

TEST_CASE("sasl: EXTERNAL and ANONYMOUS only when allowed explicitly", "[sasl][choose]") {
    Reason why;
    SaslClient by_default(options());
    CHECK_FALSE(by_default.choose({"EXTERNAL", "ANONYMOUS"}, true, true, &why));
    CHECK_THAT(why.text, Catch::Contains("EXTERNAL needs a client certificate"));
    CHECK_THAT(why.text, Catch::Contains("ANONYMOUS must be allowed explicitly"));

    SaslOptions o = options();
    o.allowed = {"EXTERNAL", "ANONYMOUS"};
    SaslClient explicit_list(o);
    CHECK(explicit_list.choose({"ANONYMOUS", "EXTERNAL"}, true, false, &why) == "EXTERNAL");
    CHECK(explicit_list.choose({"ANONYMOUS"}, false, false, &why) == "ANONYMOUS");
}

TEST_CASE("sasl: nothing acceptable gives no-acceptable-mechanism with the reasons",
          "[sasl][choose]") {
    SaslClient client(options());
    Reason why;
    CHECK_FALSE(client.choose({"X-OAUTH2", "CRAM-MD5"}, true, true, &why));
    CHECK(why.op == "sasl");
    CHECK(why.condition == "no-acceptable-mechanism");
    CHECK_THAT(why.text, Catch::Contains("X-OAUTH2 is not a mechanism pcj supports"));
    CHECK_THAT(why.text, Catch::Contains("CRAM-MD5 is not a mechanism pcj supports"));
    CHECK_FALSE(client.choose({}, true, true, &why));
    CHECK_THAT(why.text, Catch::Contains("offers no SASL mechanism"));
    CHECK_FALSE(client.choose({}, true, true, nullptr)); // no reason asked for
}

TEST_CASE("sasl: a second SCRAM login reuses the salted password and still verifies",
          "[sasl][cache]") {
    // A salt no other test uses, so that the first login is sure to derive the key. The
    // iteration count makes PBKDF2 take tens of milliseconds, the cached login microseconds.
    ServerConfig config;
    config.username = "juliet-cache";
    config.salt = base64("pcj sasl cache test salt");
    config.iterations = "40000";
    SaslOptions o = options();
    o.username = config.username;

    const auto login = [&](const std::string& mech, const SaslOptions& opts) {
        ServerConfig c = config;
        c.binding = exporter;
        TestServer server(mech, c);
        SaslClient client(opts);
        return authenticate(client, server, mech, exporter);
    };
    const Exchange cold = login("SCRAM-SHA-1", o);
    REQUIRE(cold.client.kind == Kind::done);
    auto fastest = std::chrono::nanoseconds::max();
    for (int i = 0; i < 3; ++i) {
        const Exchange warm = login("SCRAM-SHA-1", o);
        CHECK(warm.server_rc == GSASL_OK);
        CHECK(warm.client.kind == Kind::done); // the server signature still verifies
        fastest = std::min(fastest, warm.slowest_step);
    }
    CAPTURE(cold.slowest_step.count(), fastest.count());
    CHECK(fastest * 5 < cold.slowest_step);

    // The -PLUS variant of the same hash shares the entry.
    const Exchange plus = login("SCRAM-SHA-1-PLUS", o);
    CHECK(plus.client.kind == Kind::done);
    CHECK(plus.slowest_step * 5 < cold.slowest_step);

    // Another password never meets the cached key: the server refuses it.
    SaslOptions wrong_for_user = o;
    wrong_for_user.password = "not the password";
    CHECK(login("SCRAM-SHA-1", wrong_for_user).server_rc == GSASL_AUTHENTICATION_ERROR);
}
