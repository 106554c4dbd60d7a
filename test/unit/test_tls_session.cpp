// TLS session tests: credentials, application data and the end of a session, against a GnuTLS
// server in the same process wired back to back through memory (tls_harness.hpp).
#include <catch2/catch.hpp>

#include "tls_harness.hpp"

using namespace tls_test;

// ---- credentials -----------------------------------------------------------------------------

TEST_CASE("tls: equal options share one credentials object, different options do not",
          "[tls][credentials]") {
    const Pki& pki = Pki::get();
    TlsOptions options = trusting_test_ca();
    auto first = TlsCredentials::get(options);
    options.pins = {"sha256:" + std::string(64, 'a')}; // not a credentials field
    options.priority = tls13;                          // nor this
    auto second = TlsCredentials::get(options);
    CHECK(first == second);
    CHECK(first->trusted_count() == 1);

    TlsOptions other_ca = trusting_test_ca();
    other_ca.ca_file = pki.path("rogue-ca.pem");
    TlsOptions unverified = trusting_test_ca();
    unverified.verify = false;
    TlsOptions with_client_cert = trusting_test_ca();
    with_client_cert.client_cert_file = pki.path("client.pem");
    with_client_cert.client_key_file = pki.path("client.key");
    for (const TlsOptions& different : {other_ca, unverified, with_client_cert}) {
        CHECK(TlsCredentials::get(different) != first);
    }
    CHECK(TlsCredentials::get(unverified)->trusted_count() == 0);
}

TEST_CASE("tls: loading credentials reports each file opened and read, in order; a cached load "
          "reads nothing",
          "[tls][credentials][files]") {
    namespace fs = std::filesystem;
    const Pki& pki = Pki::get();
    // Copies under names no other test uses: the cache is keyed by file name.
    const std::string dir = pki.path("records-dir");
    fs::create_directories(dir);
    fs::copy_file(pki.path("ca.pem"), dir + "/a.pem", fs::copy_options::overwrite_existing);
    fs::copy_file(pki.path("rogue-ca.pem"), dir + "/b.pem", fs::copy_options::overwrite_existing);
    std::ofstream(dir + "/.hidden") << "not read";
    fs::copy_file(pki.path("ca.pem"), pki.path("records-ca.pem"),
                  fs::copy_options::overwrite_existing);
    TlsOptions options;
    options.ca_file = pki.path("records-ca.pem");
    options.ca_dir = dir;
    options.client_cert_file = pki.path("client.pem");
    options.client_key_file = pki.path("client.key");

    std::vector<pcj::SocketRecord> records;
    auto observer = [&](pcj::SocketRecord& r) {
        records.push_back(r);
    };
    auto credentials = TlsCredentials::get(options, observer);
    CHECK(credentials->trusted_count() == 3);

    struct Expected {
        std::string file;
        std::string purpose;
    };
    const std::vector<Expected> files = {{options.ca_file, "ca_file"},
                                         {dir + "/a.pem", "ca_dir"},
                                         {dir + "/b.pem", "ca_dir"},
                                         {options.client_cert_file, "client_cert"},
                                         {options.client_key_file, "client_key"}};
    std::size_t at = 0;
    for (const auto& file : files) {
        INFO(file.file);
        REQUIRE(at + 3 <= records.size());
        CHECK(records[at].code == pcj::Code::open_file);
        CHECK(records[at + 1].code == pcj::Code::file_opened);
        std::uint64_t total = 0;
        std::size_t i = at;
        for (; i < at + 2 || (i < records.size() && records[i].code == pcj::Code::data_read); ++i) {
            CHECK(records[i].name == file.file);
            CHECK(records[i].purpose == file.purpose);
            CHECK(records[i].source == pcj::Source::file);
            if (records[i].code == pcj::Code::data_read) {
                total += records[i].bytes;
                CHECK(records[i].total == total);
            }
        }
        CHECK(total == fs::file_size(file.file));
        at = i;
    }
    CHECK(at == records.size());

    records.clear();
    CHECK(TlsCredentials::get(options, observer) == credentials);
    CHECK(records.empty());
}

TEST_CASE("tls: check() finds what can be found without reading a file", "[tls][credentials]") {
    const Pki& pki = Pki::get();
    TlsOptions options = trusting_test_ca();
    CHECK_NOTHROW(TlsCredentials::check(options));
    SECTION("an unreadable CA file") {
        options.ca_file = pki.path("missing-ca.pem");
        CHECK_THROWS_WITH(TlsCredentials::check(options),
                          Contains(options.ca_file) && Contains("No such file"));
    }
    SECTION("a certificate without its key") {
        options.client_cert_file = pki.path("client.pem");
        CHECK_THROWS_WITH(TlsCredentials::check(options), Contains("key file"));
    }
    SECTION("a bad priority string") {
        options.priority = "NORMAL:+NO-SUCH-THING";
        CHECK_THROWS_WITH(TlsCredentials::check(options), Contains("NO-SUCH-THING"));
    }
    SECTION("no CA file is looked at without verification") {
        options.ca_file = pki.path("missing-ca.pem");
        options.verify = false;
        CHECK_NOTHROW(TlsCredentials::check(options));
    }
}

TEST_CASE("tls: credentials that cannot be loaded throw pcj::Error naming the file",
          "[tls][credentials]") {
    const Pki& pki = Pki::get();
    TlsOptions options = trusting_test_ca();
    SECTION("a missing CA file") {
        options.ca_file = pki.path("missing-ca.pem");
        REQUIRE_THROWS_AS(TlsCredentials::get(options), pcj::Error);
        CHECK_THAT(load_error(options), Contains(options.ca_file) && Contains("No such file"));
    }
    SECTION("a CA file without certificates") {
        options.ca_file = pki.path("empty.pem");
        CHECK_THAT(load_error(options), Contains(options.ca_file) && Contains("no certificate"));
    }
    SECTION("a missing client key") {
        options.client_cert_file = pki.path("client.pem");
        options.client_key_file = pki.path("missing.key");
        CHECK_THAT(load_error(options), Contains(options.client_key_file));
    }
    SECTION("a client key that does not belong to the certificate") {
        options.client_cert_file = pki.path("client.pem");
        options.client_key_file = pki.path("other.key");
        CHECK_THAT(load_error(options),
                   Contains(options.client_cert_file) && Contains(options.client_key_file));
    }
    SECTION("a bad priority string") {
        options.priority = "NORMAL:+NO-SUCH-THING";
        CHECK_THAT(load_error(options), Contains("NO-SUCH-THING"));
    }
}

TEST_CASE("tls: a session that cannot be set up fails on start", "[tls][credentials]") {
    bool failed = false;
    pcj::Reason reason;
    TlsSession::Callbacks callbacks;
    callbacks.on_failure = [&](const pcj::Reason& why) {
        failed = true;
        reason = why;
    };
    TlsOptions options = trusting_test_ca();
    options.priority = "NORMAL:+NO-SUCH-THING"; // never went through TlsCredentials::get
    TlsSession session(TlsCredentials::get(trusting_test_ca()), options, "localhost", callbacks);
    CHECK_FALSE(failed);
    session.start();
    CHECK(failed);
    CHECK(session.failed());
    CHECK(reason.condition == "ssl_failed");
    CHECK_THAT(reason.text, Contains("NO-SUCH-THING"));
}

TEST_CASE("tls: a client certificate is presented when the server asks for one",
          "[tls][credentials]") {
    TlsOptions options = trusting_test_ca();
    options.client_cert_file = Pki::get().path("client.pem");
    options.client_key_file = Pki::get().path("client.key");
    Link link("localhost", options);
    gnutls_certificate_server_set_request(link.server.session(), GNUTLS_CERT_REQUIRE);
    link.connect();
    REQUIRE(link.events == Events{"established"});
    unsigned count = 0;
    CHECK(gnutls_certificate_get_peers(link.server.session(), &count) != nullptr);
    CHECK(count >= 1);
}

// ---- application data ------------------------------------------------------------------------

TEST_CASE("tls: client and server compute the same channel binding", "[tls][binding]") {
    auto [priority, type, gnutls_type, size] =
        GENERATE(table<std::string, std::string, gnutls_channel_binding_t, std::size_t>({
            {tls13, "tls-exporter", GNUTLS_CB_TLS_EXPORTER, 32},
            {tls12, "tls-unique", GNUTLS_CB_TLS_UNIQUE, 12},
        }));
    Link link("localhost", trusting_test_ca(), "localhost", priority);
    CHECK(link.client->channel_binding() == std::pair<std::string, std::string>{});
    link.connect();
    REQUIRE(link.events == Events{"established"});
    auto [name, bytes] = link.client->channel_binding();
    CHECK(name == type);
    CHECK(bytes.size() == size);
    CHECK(bytes == server_binding(link.server.session(), gnutls_type));
}

TEST_CASE("tls: a mebibyte each way arrives intact and in order", "[tls][data]") {
    std::string data(1 << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<char>((i * 31 + i / 4096) % 251);
    }
    Link link("localhost", trusting_test_ca());
    link.chunk = 4093; // ciphertext arrives cut at arbitrary points
    link.connect();
    REQUIRE(link.events == Events{"established"});
    link.client->write(data);
    link.pump();
    CHECK(link.server.received.size() == data.size());
    CHECK(link.server.received == data);
    CHECK(link.largest_send < 128 * 1024); // written out as it goes, not buffered whole
    link.server.send(data);
    link.pump();
    CHECK(link.plaintext.size() == data.size());
    CHECK(link.plaintext == data);
    CHECK(link.events == Events{"established", "plaintext"});
}

TEST_CASE("tls: writes before the handshake has completed are dropped", "[tls][data]") {
    Link link("localhost", trusting_test_ca());
    link.client->write("too early");
    CHECK(link.to_server.empty());
    link.connect();
    REQUIRE(link.events == Events{"established"});
    link.client->write("on time");
    link.pump();
    CHECK(link.server.received == "on time");
}

TEST_CASE("tls: post-handshake messages do not disturb the session", "[tls][data]") {
    auto priority = GENERATE(tls13, tls12);
    Link link("localhost", trusting_test_ca(), "localhost", priority);
    link.connect();
    REQUIRE(link.events == Events{"established"});
    if (priority == tls13) {
        REQUIRE(gnutls_session_key_update(link.server.session(), GNUTLS_KU_PEER) == 0);
        gnutls_session_ticket_send(link.server.session(), 1, 0); // may be refused: no tickets
    } else {
        REQUIRE(gnutls_rehandshake(link.server.session()) == 0); // refused by the client
    }
    link.server.send("after");
    link.pump();
    link.client->write("reply");
    link.pump();
    CHECK(link.events == Events{"established", "plaintext"});
    CHECK(link.plaintext == "after");
    INFO(priority);
    CHECK(link.server.received == "reply");
    CHECK(link.server.error == 0);
}

// ---- the end ---------------------------------------------------------------------------------

TEST_CASE("tls: close sends close_notify, and the peer's close_notify fires on_closed once",
          "[tls][close]") {
    Link link("localhost", trusting_test_ca());
    link.connect();
    REQUIRE(link.events == Events{"established"});
    SECTION("the client closes first") {
        link.client->close();
        link.pump();
        CHECK(link.server.eof);
        link.client->write("after close");
        CHECK(link.to_server.empty());
        REQUIRE(gnutls_bye(link.server.session(), GNUTLS_SHUT_WR) == 0);
        link.pump();
        CHECK(link.events == Events{"established", "closed"});
    }
    SECTION("the server closes first") {
        link.server.send("last words");
        REQUIRE(gnutls_bye(link.server.session(), GNUTLS_SHUT_WR) == 0);
        link.pump();
        CHECK(link.events == Events{"established", "plaintext", "closed"});
        CHECK(link.plaintext == "last words");
        link.client->feed("anything after close_notify");
        link.client->close();
        link.pump();
        CHECK(link.server.eof);
        CHECK(link.events == Events{"established", "plaintext", "closed"});
    }
}

TEST_CASE("tls: garbage instead of a ServerHello fails with ssl_failed, and then nothing",
          "[tls][failure]") {
    Link link("localhost", trusting_test_ca());
    link.client->start();
    link.to_server.clear(); // the ClientHello goes nowhere
    link.client->feed("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    REQUIRE(link.events == Events{"failure"});
    CHECK(link.reason.op == "tls");
    CHECK(link.reason.condition == "ssl_failed");
    CHECK_FALSE(link.reason.text.empty());
    CHECK(link.client->failed());
    link.to_server.clear();
    link.client->feed("more garbage");
    link.client->write("data");
    link.client->close();
    CHECK(link.events == Events{"failure"});
    CHECK(link.to_server.empty());
    CHECK(link.client->channel_binding().first.empty());
}

TEST_CASE("tls: the session may be destroyed from inside its callbacks", "[tls][lifetime]") {
    // Named copies, not structured bindings: lambdas capture them (clang < 16 cannot).
    auto row = GENERATE(table<std::string, std::string>({
        {"rogue", "failure"},
        {"localhost", "established"},
        {"localhost", "plaintext"},
        {"localhost", "closed"},
    }));
    const std::string cert = std::get<0>(row);
    const std::string doomed_at = std::get<1>(row);
    Link link(cert, trusting_test_ca(), "localhost", tls12);
    link.server.on_handshake_done = [&] {
        link.server.send("one");
        REQUIRE(gnutls_bye(link.server.session(), GNUTLS_SHUT_WR) == 0);
    };
    link.after_event = [&](const std::string& event) {
        if (event == doomed_at) {
            link.client.reset();
        }
    };
    link.connect();
    CHECK(link.client == nullptr);
    CHECK(link.events.back() == doomed_at);
}
