// SaslClient's choice of mechanism and the SCRAM salted-password cache, against a GNU SASL
// server session in the same process (sasl_harness.hpp).
#include <catch2/catch.hpp>

#include "sasl_harness.hpp"

using namespace sasl_test;

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
