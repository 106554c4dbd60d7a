// SCRAM's iteration count from a hostile server: refused above max_scram_iterations before
// gsasl sees it (gsasl reads counts modulo 2^32 and leaks at 0), and the PBKDF2 of an allowed
// count computed by precompute(), the work the core runs off the loop thread.
#include <catch2/catch.hpp>

#include <gsasl.h>

#include <chrono>
#include <string>

#include "sasl.hpp"

using pcj::detail::SaslClient;
using pcj::detail::SaslOptions;
using pcj::detail::SaslStep;
using Kind = SaslStep::Kind;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* user = "romeo-limits";
constexpr const char* password = "w3rth3r-r0s3";

SaslOptions options() {
    SaslOptions o;
    o.username = user;
    o.password = password;
    o.hostname = "montague.example";
    o.allow_plaintext_password = true;
    return o;
}

// The client nonce of a client-first-message ("n,,n=user,r=NONCE").
std::string client_nonce(const std::string& first) {
    const auto at = first.find(",r=");
    REQUIRE(at != std::string::npos);
    return first.substr(at + 3);
}

std::string server_first(const std::string& first, const std::string& iterations) {
    return "r=" + client_nonce(first) + "srv,s=c2FsdHNhbHRzYWx0,i=" + iterations;
}

struct ScramServer {
    std::string salt;
    std::string iterations;
};

int server_callback(Gsasl*, Gsasl_session* s, Gsasl_property p) {
    const auto& c = *static_cast<const ScramServer*>(gsasl_session_hook_get(s));
    switch (p) {
    case GSASL_PASSWORD:
        gsasl_property_set(s, p, password);
        return GSASL_OK;
    case GSASL_SCRAM_SALT:
        gsasl_property_set(s, p, c.salt.c_str());
        return GSASL_OK;
    case GSASL_SCRAM_ITER:
        gsasl_property_set(s, p, c.iterations.c_str());
        return GSASL_OK;
    default:
        return GSASL_NO_CALLBACK;
    }
}

std::string server_step(Gsasl_session* s, const std::string& in, int* rc) {
    char* out = nullptr;
    std::size_t len = 0;
    *rc = gsasl_step(s, in.data(), in.size(), &out, &len);
    std::string data = out == nullptr ? std::string() : std::string(out, len);
    gsasl_free(out);
    return data;
}

} // namespace

TEST_CASE("sasl limits: an iteration count above the cap is refused before any hashing",
          "[sasl][scram][hostile]") {
    // 20,000,000 blocked a loop for 14 s; 4294967296 is 0 to gsasl, which then leaks.
    for (const char* count_text :
         {"20000000", "4294967295", "4294967296", "100001", "0", "-1", "0100", "12a", ""}) {
        const std::string count = count_text;
        CAPTURE(count);
        SaslClient client(options());
        const SaslStep first = client.start("SCRAM-SHA-1");
        REQUIRE(first.kind == Kind::respond);
        const std::string challenge = server_first(first.data, count);
        CHECK_FALSE(client.precompute(challenge));
        const auto t0 = Clock::now();
        const SaslStep step = client.step(challenge);
        CHECK(Clock::now() - t0 < std::chrono::milliseconds(100));
        REQUIRE(step.kind == Kind::failed);
        CHECK(step.reason.condition == "iteration-count-refused");
    }
}

TEST_CASE("sasl limits: the cap is configurable and the cap itself is allowed",
          "[sasl][scram][hostile]") {
    SaslOptions o = options();
    o.max_scram_iterations = 5000;
    SaslClient low(o);
    const SaslStep first = low.start("SCRAM-SHA-256");
    const SaslStep over = low.step(server_first(first.data, "5001"));
    CHECK(over.kind == Kind::failed);
    CHECK(over.reason.text.find("max_scram_iterations (5000)") != std::string::npos);

    SaslClient at_cap(o);
    const SaslStep first2 = at_cap.start("SCRAM-SHA-256");
    const std::string challenge = server_first(first2.data, "5000");
    auto work = at_cap.precompute(challenge);
    REQUIRE(work);
    work();
    CHECK(at_cap.step(challenge).kind == Kind::respond);
}

TEST_CASE("sasl limits: precompute derives the key gsasl would, so the server accepts the proof",
          "[sasl][scram]") {
    static Gsasl* server_ctx = [] {
        Gsasl* c = nullptr;
        REQUIRE(gsasl_init(&c) == GSASL_OK);
        gsasl_callback_set(c, server_callback);
        return c;
    }();
    for (const char* mech_name : {"SCRAM-SHA-1", "SCRAM-SHA-256"}) {
        const std::string mech = mech_name;
        CAPTURE(mech);
        // A salt of its own, so the cache cannot answer, and enough iterations to time.
        ScramServer config{"cHJlY29tcHV0ZS0" + std::string(mech == "SCRAM-SHA-1" ? "x" : "y"),
                           "60000"};
        Gsasl_session* server = nullptr;
        REQUIRE(gsasl_server_start(server_ctx, mech.c_str(), &server) == GSASL_OK);
        gsasl_session_hook_set(server, &config);
        SaslClient client(options());
        const SaslStep first = client.start(mech);
        int rc = 0;
        const std::string challenge = server_step(server, first.data, &rc);
        REQUIRE(rc == GSASL_NEEDS_MORE);

        auto work = client.precompute(challenge);
        REQUIRE(work);
        const auto t0 = Clock::now();
        work();
        const auto hashing = Clock::now() - t0;
        const auto t1 = Clock::now();
        const SaslStep response = client.step(challenge);
        const auto stepping = Clock::now() - t1;
        REQUIRE(response.kind == Kind::respond);
        // The step used the precomputed key instead of deriving it again.
        CAPTURE(hashing.count(), stepping.count());
        CHECK(stepping * 5 < hashing);

        const std::string final_message = server_step(server, response.data, &rc);
        CHECK(rc == GSASL_OK); // the server accepts the client proof
        CHECK(client.finish(final_message).kind == Kind::done);
        gsasl_finish(server);
    }
}
