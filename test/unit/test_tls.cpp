// TLS session tests: the handshake and the verification of the server, against a GnuTLS
// server in the same process wired back to back through memory (tls_harness.hpp).
#include <catch2/catch.hpp>

#include "tls_harness.hpp"

using namespace tls_test;

// ---- handshake -------------------------------------------------------------------------------

TEST_CASE("tls: the handshake succeeds on TLS 1.3 and 1.2 and reports version and cipher",
          "[tls][handshake]") {
    auto [priority, version, cipher] = GENERATE(table<std::string, std::string, std::string>({
        {tls13 + ":-CIPHER-ALL:+AES-256-GCM", "TLS1.3", "TLS_AES_256_GCM_SHA384"},
        {tls13 + ":-CIPHER-ALL:+CHACHA20-POLY1305", "TLS1.3", "TLS_CHACHA20_POLY1305_SHA256"},
        {tls12 + ":-CIPHER-ALL:+AES-128-GCM", "TLS1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
    }));
    Link link("localhost", trusting_test_ca(), "localhost", priority);
    CHECK(link.client->cipher().empty());
    CHECK(link.client->protocol_version().empty());
    link.connect();
    REQUIRE(link.events == Events{"established"});
    CHECK(link.client->established());
    CHECK_FALSE(link.client->failed());
    CHECK(link.server.handshake_done);
    CHECK(link.client->protocol_version() == version);
    CHECK(link.client->cipher() == cipher);
}

TEST_CASE("tls: a handshake fed one byte at a time completes", "[tls][handshake]") {
    Link link("localhost", trusting_test_ca());
    link.chunk = 1;
    link.connect();
    CHECK(link.events == Events{"established"});
}

TEST_CASE("tls: the server sees the SNI name, and none is sent for an IP address",
          "[tls][handshake]") {
    SECTION("a host name") {
        Link link("localhost", trusting_test_ca(), "localhost");
        link.connect();
        CHECK(link.events == Events{"established"});
        CHECK(link.server.sni() == "localhost");
    }
    SECTION("a name matched by the certificate's wildcard") {
        // GnuTLS ignores "*.localhost" (a wildcard needs two labels after it) but honours
        // "*.xmpp.localhost".
        Link link("localhost", trusting_test_ca(), "chat.xmpp.localhost");
        link.connect();
        CHECK(link.events == Events{"established"});
        CHECK(link.server.sni() == "chat.xmpp.localhost");
    }
    SECTION("an IP address") {
        TlsOptions options;
        options.verify = false;
        Link link("localhost", options, "127.0.0.1");
        link.connect();
        CHECK(link.events == Events{"established"});
        CHECK(link.server.sni().empty());
    }
}

// ---- verification ----------------------------------------------------------------------------

TEST_CASE("tls: a certificate from an untrusted CA fails with ssl_invalid_chain", "[tls][verify]") {
    auto priority = GENERATE(tls13, tls12);
    Link link("rogue", trusting_test_ca(), "localhost", priority);
    link.connect();
    REQUIRE(link.events == Events{"failure"});
    CHECK(link.reason.op == "tls");
    CHECK(link.reason.condition == "ssl_invalid_chain");
    CHECK_THAT(link.reason.text, Contains("issuer is unknown"));
    CHECK(link.client->failed());
    CHECK_FALSE(link.client->established());
    // The server is told: the client sent a fatal alert.
    CHECK(link.server.error == GNUTLS_E_FATAL_ALERT_RECEIVED);
}

TEST_CASE("tls: a certificate for another name fails with ssl_invalid_cert naming both",
          "[tls][verify]") {
    Link link("other", trusting_test_ca(), "localhost");
    link.connect();
    REQUIRE(link.events == Events{"failure"});
    CHECK(link.reason.condition == "ssl_invalid_cert");
    CHECK_THAT(link.reason.text, Contains("does not match"));
    CHECK_THAT(link.reason.text, Contains("\"localhost\""));
    CHECK_THAT(link.reason.text, Contains("other.example"));
}

TEST_CASE("tls: an expired certificate fails with ssl_invalid_cert", "[tls][verify]") {
    Link link("expired", trusting_test_ca(), "localhost");
    link.connect();
    REQUIRE(link.events == Events{"failure"});
    CHECK(link.reason.condition == "ssl_invalid_cert");
    CHECK_THAT(link.reason.text, Contains("expired"));
}

TEST_CASE("tls: an untrusted certificate for another name is reported as ssl_invalid_chain",
          "[tls][verify]") {
    Link link("rogue", trusting_test_ca(), "other.example");
    link.connect();
    REQUIRE(link.events == Events{"failure"});
    CHECK(link.reason.condition == "ssl_invalid_chain");
    CHECK_THAT(link.reason.text, Contains("does not match"));
}

TEST_CASE("tls: without verification an untrusted certificate is accepted", "[tls][verify]") {
    TlsOptions options = trusting_test_ca();
    options.verify = false;
    Link link("rogue", options, "other.example");
    link.connect();
    CHECK(link.events == Events{"established"});
}

TEST_CASE("tls: a pinned key or certificate is trusted without a trusted chain or name",
          "[tls][verify][pin]") {
    const Pki& pki = Pki::get();
    TlsOptions options = trusting_test_ca();
    SECTION("the public key's SHA-256, lowercase") {
        options.pins = {"sha256:" + pki.certtool_output("--key-id --hash=sha256", "rogue.pem")};
    }
    SECTION("the certificate's SHA-256, uppercase and colon-separated, after a wrong pin") {
        std::string hex = pki.certtool_output("--fingerprint --hash=sha256", "rogue.pem");
        REQUIRE(hex.size() == 64);
        std::string colons;
        for (std::size_t i = 0; i < hex.size(); i += 2) {
            colons += (i == 0 ? "" : ":") + hex.substr(i, 2);
        }
        for (char& c : colons) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        options.pins = {"sha256:" + std::string(64, '0'), "sha256:" + colons};
    }
    Link link("rogue", options, "somewhere.else");
    link.connect();
    CHECK(link.events == Events{"established"});
}

TEST_CASE("tls: a pin that matches nothing fails with ssl_invalid_chain, even for a good chain",
          "[tls][verify][pin]") {
    const Pki& pki = Pki::get();
    TlsOptions options = trusting_test_ca();
    options.pins = {"sha256:" + pki.certtool_output("--key-id --hash=sha256", "rogue.pem")};
    SECTION("with verification") {}
    SECTION("without verification: a pin is still enforced") {
        options.verify = false;
    }
    SECTION("a malformed pin matches nothing") {
        options.pins = {"sha256:not-hex"};
    }
    Link link("localhost", options, "localhost");
    link.connect();
    REQUIRE(link.events == Events{"failure"});
    CHECK(link.reason.op == "tls");
    CHECK(link.reason.condition == "ssl_invalid_chain");
    CHECK_THAT(link.reason.text, Contains("no pinned key matched"));
}

TEST_CASE("tls: no plaintext reaches the application before the server is verified",
          "[tls][verify]") {
    // The server sends application data together with its last handshake flight (TLS 1.2, or
    // TLS 1.3 with early start), so the client holds it when it verifies.
    auto [priority, flags] = GENERATE(table<std::string, unsigned>({
        {tls12, 0u},
        {tls13, static_cast<unsigned>(GNUTLS_ENABLE_EARLY_START)},
    }));
    SECTION("an untrusted server: failure, and nothing decrypted") {
        Link link("rogue", trusting_test_ca(), "localhost", priority, flags);
        link.server.on_handshake_done = [&] {
            link.server.send("<secret/>");
        };
        link.connect();
        CHECK(link.events == Events{"failure"});
        CHECK(link.reason.condition == "ssl_invalid_chain");
        CHECK(link.plaintext.empty());
    }
    SECTION("control: a trusted server's early data arrives after on_established") {
        Link link("localhost", trusting_test_ca(), "localhost", priority, flags);
        link.server.on_handshake_done = [&] {
            link.server.send("<secret/>");
        };
        link.connect();
        CHECK(link.events == Events{"established", "plaintext"});
        CHECK(link.plaintext == "<secret/>");
    }
}
