// SaslClient against a GNU SASL server session in the same process (sasl_harness.hpp): every
// mechanism, server verification, failures and channel binding.
#include <catch2/catch.hpp>

#include "sasl_harness.hpp"

using namespace sasl_test;

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
