// The SASL tests' harness: a GNU SASL server session in the same process, and an exchange
// driven the way the XMPP module drives one.
#pragma once

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

namespace sasl_test {

using pcj::Reason;
using pcj::detail::SaslClient;
using pcj::detail::SaslOptions;
using pcj::detail::SaslStep;
using Kind = SaslStep::Kind;
using Binding = std::pair<std::string, std::string>;

constexpr const char* user = "juliet";
constexpr const char* password = "r0m30-myr0m30";
constexpr const char* domain = "capulet.example";

// What the test server knows: the account, and the channel binding it sees on its side.
struct ServerConfig {
    std::string username = user;
    std::string password = sasl_test::password;
    std::string realm;      // DIGEST-MD5: the realm offered; empty offers none
    Binding binding;        // {type, raw bytes}
    std::string salt;       // SCRAM: base64 salt; empty lets gsasl pick one
    std::string iterations; // SCRAM: iteration count; empty lets gsasl pick
};

inline std::string base64(const std::string& raw) {
    char* out = nullptr;
    REQUIRE(gsasl_base64_to(raw.data(), raw.size(), &out, nullptr) == GSASL_OK);
    std::string s(out);
    gsasl_free(out);
    return s;
}

inline int set(Gsasl_session* s, Gsasl_property p, const std::string& v) {
    if (v.empty()) {
        return GSASL_NO_CALLBACK;
    }
    gsasl_property_set(s, p, v.c_str());
    return GSASL_OK;
}

inline std::string fast(Gsasl_session* s, Gsasl_property p) {
    const char* v = gsasl_property_fast(s, p);
    return v == nullptr ? std::string() : std::string(v);
}

inline int answer_binding(Gsasl_session* s, Gsasl_property p, const ServerConfig& c,
                          std::string_view type) {
    if (c.binding.first != type) {
        return GSASL_NO_CALLBACK;
    }
    return set(s, p, base64(c.binding.second));
}

inline int server_callback(Gsasl* /*ctx*/, Gsasl_session* s, Gsasl_property p) {
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
inline Gsasl* server_context() {
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
inline Exchange authenticate(SaslClient& client, TestServer& server, const std::string& mech,
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

inline SaslOptions options(std::string pass = password) {
    SaslOptions o;
    o.username = user;
    o.password = std::move(pass);
    o.hostname = domain;
    return o;
}

// Changes the character right after `marker` to another valid character of the same alphabet.
inline std::function<void(std::string&)> alter_after(std::string marker) {
    return [marker](std::string& s) {
        const auto at = s.find(marker);
        REQUIRE(at != std::string::npos);
        char& ch = s[at + marker.size()];
        ch = ch == 'a' ? 'b' : 'a';
    };
}

const Binding exporter{"tls-exporter", std::string("\x01\x02\x03 exporter bytes \xfe", 20)};
const Binding unique{"tls-unique", "finished-message-bytes"};

} // namespace sasl_test
