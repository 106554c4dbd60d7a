// TLS session tests: a GnuTLS server in the same process, wired back to back through memory.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gnutls/gnutls.h>

#include "pcj/error.hpp"
#include "tls.hpp"

using Catch::Matchers::Contains;
using pcj::detail::TlsCredentials;
using pcj::detail::TlsOptions;
using pcj::detail::TlsSession;

namespace {

// ---- a test PKI, made once per process with certtool ----------------------------------------

class Pki {
public:
    static const Pki& get() {
        static Pki pki;
        return pki;
    }
    ~Pki() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    Pki(const Pki&) = delete;
    Pki& operator=(const Pki&) = delete;

    std::string path(const std::string& name) const { return dir_ + "/" + name; }

    // certtool's answer for one certificate, e.g. "--key-id --hash=sha256" (the SPKI's SHA-256).
    std::string certtool_output(const std::string& args, const std::string& cert) const {
        std::string command = "certtool " + args + " --infile " + path(cert) + " 2>/dev/null";
        std::FILE* pipe = ::popen(command.c_str(), "r");
        if (pipe == nullptr) {
            throw std::runtime_error("cannot run " + command);
        }
        std::string out;
        char chunk[256];
        while (std::fgets(chunk, sizeof chunk, pipe) != nullptr) {
            out += chunk;
        }
        ::pclose(pipe);
        while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back())) != 0) {
            out.pop_back();
        }
        return out;
    }

private:
    Pki() {
        std::string pattern = (std::filesystem::temp_directory_path() / "pcj-tls-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        dir_ = pattern;
        const std::string always = "activation_date = \"2019-01-01 00:00:00 UTC\"\n"
                                   "expiration_date = \"2099-01-01 00:00:00 UTC\"\n";
        const std::string server = "tls_www_server\nsigning_key\n" + always;
        make_ca("ca", "cn = \"pcj test CA\"\n" + always);
        make_ca("rogue-ca", "cn = \"pcj untrusted CA\"\n" + always);
        make_leaf("localhost", "ca",
                  "cn = \"localhost\"\ndns_name = \"localhost\"\ndns_name = \"*.localhost\"\n"
                  "dns_name = \"*.xmpp.localhost\"\n" +
                      server);
        make_leaf("other", "ca", "cn = \"other.example\"\ndns_name = \"other.example\"\n" + server);
        make_leaf("expired", "ca",
                  "cn = \"localhost\"\ndns_name = \"localhost\"\ntls_www_server\nsigning_key\n"
                  "activation_date = \"2020-01-01 00:00:00 UTC\"\n"
                  "expiration_date = \"2021-01-01 00:00:00 UTC\"\n");
        make_leaf("rogue", "rogue-ca", "cn = \"localhost\"\ndns_name = \"localhost\"\n" + server);
        make_leaf("client", "ca", "cn = \"pcj client\"\ntls_www_client\nsigning_key\n" + always);
        write("empty.pem", "");
    }

    void write(const std::string& name, const std::string& text) const {
        std::ofstream(path(name)) << text;
    }
    void certtool(const std::string& args) const {
        std::string command = "certtool " + args + " >/dev/null 2>&1";
        if (std::system(command.c_str()) != 0) {
            throw std::runtime_error("certtool failed: " + command);
        }
    }
    void make_key(const std::string& name) const {
        certtool("--generate-privkey --key-type=ecdsa --outfile " + path(name + ".key"));
    }
    void make_ca(const std::string& name, const std::string& tmpl) const {
        make_key(name);
        write(name + ".tmpl", tmpl + "ca\ncert_signing_key\n");
        certtool("--generate-self-signed --load-privkey " + path(name + ".key") + " --template " +
                 path(name + ".tmpl") + " --outfile " + path(name + ".pem"));
    }
    void make_leaf(const std::string& name, const std::string& ca, const std::string& tmpl) const {
        make_key(name);
        write(name + ".tmpl", tmpl);
        certtool("--generate-certificate --load-privkey " + path(name + ".key") +
                 " --load-ca-certificate " + path(ca + ".pem") + " --load-ca-privkey " +
                 path(ca + ".key") + " --template " + path(name + ".tmpl") + " --outfile " +
                 path(name + ".pem"));
    }

    std::string dir_;
};

TlsOptions trusting_test_ca() {
    TlsOptions options;
    options.ca_file = Pki::get().path("ca.pem");
    return options;
}

const std::string tls13 = "NORMAL:-VERS-ALL:+VERS-TLS1.3";
const std::string tls12 = "NORMAL:-VERS-ALL:+VERS-TLS1.2";

// ---- a GnuTLS server on memory buffers ------------------------------------------------------

class TestServer {
public:
    TestServer(const std::string& cert, const std::string& priority, unsigned flags = 0) {
        const Pki& pki = Pki::get();
        gnutls_certificate_allocate_credentials(&credentials_);
        int ret = gnutls_certificate_set_x509_key_file(
            credentials_, pki.path(cert + ".pem").c_str(), pki.path(cert + ".key").c_str(),
            GNUTLS_X509_FMT_PEM);
        REQUIRE(ret >= 0);
        gnutls_init(&session_, GNUTLS_SERVER | GNUTLS_NONBLOCK | flags);
        REQUIRE(gnutls_priority_set_direct(session_, priority.c_str(), nullptr) >= 0);
        gnutls_credentials_set(session_, GNUTLS_CRD_CERTIFICATE, credentials_);
        gnutls_transport_set_ptr(session_, this);
        gnutls_transport_set_push_function(session_, &TestServer::push);
        gnutls_transport_set_pull_function(session_, &TestServer::pull);
    }
    ~TestServer() {
        gnutls_deinit(session_);
        gnutls_certificate_free_credentials(credentials_);
    }
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    gnutls_session_t session() { return session_; }
    std::string take_output() { return std::exchange(out_, {}); }

    void receive(std::string_view bytes) {
        in_.append(bytes);
        step();
    }
    void send(std::string_view plaintext) {
        while (!plaintext.empty()) {
            ssize_t n = gnutls_record_send(session_, plaintext.data(), plaintext.size());
            REQUIRE(n > 0);
            plaintext.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    std::string sni() const {
        char name[256] = {};
        std::size_t size = sizeof name;
        unsigned type = 0;
        if (gnutls_server_name_get(session_, name, &size, &type, 0) < 0) {
            return {};
        }
        return std::string(name, size);
    }

    bool handshake_done = false;
    int error = 0; // the first fatal GnuTLS error (e.g. the client's alert)
    bool eof = false;
    std::string received;
    std::function<void()> on_handshake_done;

private:
    void step() {
        if (error != 0 || eof) {
            return;
        }
        if (!handshake_done) {
            int ret = 0;
            do {
                ret = gnutls_handshake(session_);
            } while (ret < 0 && ret != GNUTLS_E_AGAIN && gnutls_error_is_fatal(ret) == 0);
            if (ret == GNUTLS_E_AGAIN) {
                return;
            }
            if (ret < 0) {
                error = ret;
                return;
            }
            handshake_done = true;
            if (on_handshake_done) {
                on_handshake_done();
            }
        }
        for (;;) {
            char buffer[16384];
            const std::size_t before = in_pos_;
            ssize_t n = gnutls_record_recv(session_, buffer, sizeof buffer);
            if (n > 0) {
                received.append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0) {
                eof = true;
                return;
            } else if (n == GNUTLS_E_AGAIN) {
                // After a KeyUpdate GnuTLS says AGAIN with records still unread.
                if (in_pos_ == before || in_pos_ == in_.size()) {
                    return;
                }
            } else if (gnutls_error_is_fatal(static_cast<int>(n)) != 0) {
                error = static_cast<int>(n);
                return;
            }
        }
    }
    static ssize_t push(gnutls_transport_ptr_t self, const void* data, std::size_t size) {
        static_cast<TestServer*>(self)->out_.append(static_cast<const char*>(data), size);
        return static_cast<ssize_t>(size);
    }
    static ssize_t pull(gnutls_transport_ptr_t self, void* data, std::size_t size) {
        auto* server = static_cast<TestServer*>(self);
        std::size_t n = std::min(size, server->in_.size() - server->in_pos_);
        if (n == 0) {
            gnutls_transport_set_errno(server->session_, EAGAIN);
            return -1;
        }
        std::memcpy(data, server->in_.data() + server->in_pos_, n);
        server->in_pos_ += n;
        return static_cast<ssize_t>(n);
    }

    gnutls_certificate_credentials_t credentials_ = nullptr;
    gnutls_session_t session_ = nullptr;
    std::string in_;
    std::size_t in_pos_ = 0;
    std::string out_;
};

// ---- the client under test, linked to the server ---------------------------------------------

struct Link {
    Link(const std::string& cert, const TlsOptions& options, std::string name = "localhost",
         const std::string& server_priority = "NORMAL", unsigned server_flags = 0)
        : server(cert, server_priority, server_flags) {
        TlsSession::Callbacks callbacks;
        callbacks.send = [this](std::string_view bytes) {
            to_server.append(bytes);
            largest_send = std::max(largest_send, bytes.size());
        };
        callbacks.on_plaintext = [this](std::string_view text) {
            plaintext.append(text);
            record("plaintext");
        };
        callbacks.on_established = [this] {
            record("established");
        };
        callbacks.on_failure = [this](const pcj::Reason& why) {
            reason = why;
            record("failure");
        };
        callbacks.on_closed = [this] {
            record("closed");
        };
        client = std::make_unique<TlsSession>(TlsCredentials::get(options), options,
                                              std::move(name), std::move(callbacks));
    }

    void record(const std::string& event) {
        // Collapse runs of plaintext: how the bytes were cut into records does not matter.
        if (event != "plaintext" || events.empty() || events.back() != event) {
            events.push_back(event);
        }
        if (after_event) {
            after_event(event);
        }
    }

    void connect() {
        client->start();
        pump();
    }

    // Moves bytes both ways (in pieces of `chunk` bytes when set) until nothing moves.
    void pump() {
        for (int round = 0; round < 1000000; ++round) {
            std::string up = std::exchange(to_server, {});
            std::string down = server.take_output();
            if (up.empty() && down.empty()) {
                return;
            }
            for (std::size_t at = 0; at < up.size(); at += piece(up.size())) {
                server.receive(std::string_view(up).substr(at, piece(up.size())));
            }
            for (std::size_t at = 0; at < down.size() && client; at += piece(down.size())) {
                client->feed(std::string_view(down).substr(at, piece(down.size())));
            }
        }
        FAIL("the link never went quiet");
    }
    std::size_t piece(std::size_t size) const { return chunk == 0 ? size : chunk; }

    TestServer server;
    std::unique_ptr<TlsSession> client;
    std::string to_server;
    std::size_t largest_send = 0;
    std::size_t chunk = 0;
    std::vector<std::string> events;
    std::string plaintext;
    pcj::Reason reason;
    std::function<void(const std::string&)> after_event;
};

using Events = std::vector<std::string>;

std::string load_error(const TlsOptions& options) {
    try {
        TlsCredentials::get(options);
    } catch (const pcj::Error& e) {
        return e.what();
    }
    return "(no error)";
}

std::string server_binding(gnutls_session_t session, gnutls_channel_binding_t type) {
    gnutls_datum_t data{};
    if (gnutls_session_channel_binding(session, type, &data) < 0) {
        return "(server has none)";
    }
    std::string bytes(reinterpret_cast<const char*>(data.data), data.size);
    gnutls_free(data.data);
    return bytes;
}

} // namespace

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
