// The TLS tests' harness: a test PKI made with certtool, a GnuTLS server on memory buffers,
// and the client under test linked to it.
#pragma once

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

namespace tls_test {

using Catch::Matchers::Contains;
using pcj::detail::TlsCredentials;
using pcj::detail::TlsOptions;
using pcj::detail::TlsSession;

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

inline TlsOptions trusting_test_ca() {
    TlsOptions options;
    options.ca_file = Pki::get().path("ca.pem");
    return options;
}

inline const std::string tls13 = "NORMAL:-VERS-ALL:+VERS-TLS1.3";
inline const std::string tls12 = "NORMAL:-VERS-ALL:+VERS-TLS1.2";

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

inline std::string load_error(const TlsOptions& options) {
    try {
        TlsCredentials::get(options);
    } catch (const pcj::Error& e) {
        return e.what();
    }
    return "(no error)";
}

inline std::string server_binding(gnutls_session_t session, gnutls_channel_binding_t type) {
    gnutls_datum_t data{};
    if (gnutls_session_channel_binding(session, type, &data) < 0) {
        return "(server has none)";
    }
    std::string bytes(reinterpret_cast<const char*>(data.data), data.size);
    gnutls_free(data.data);
    return bytes;
}

} // namespace tls_test
