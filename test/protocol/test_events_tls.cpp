// The socket records for files (doc/origins.md) and the TLS events of a failed handshake against a
// scripted peer: the CA file read at the first TLS start, cached per process, and one that cannot
// be used.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <set>

#include <unistd.h>

#include "configs.hpp"
#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "scripted_peer.hpp"
#include "scripts.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

const std::set<std::string_view> traffic = {net::READ, net::WRITE, net::READY_TO_WRITE};
const std::set<std::string_view> stanzas = {xs::FEED,      xs::NODE,   xs::IQ,      xs::IQ_SET,
                                            xs::IQ_RESULT, xs::IQ_GET, xs::IQ_ERROR};

// A CA bundle under a name no other test uses: the credentials cache is per file name, so the
// component that uses it is the one that reads it.
struct TempFile {
    explicit TempFile(const std::string& contents) {
        char name[] = "/tmp/pcj-events-XXXXXX";
        const int fd = ::mkstemp(name);
        REQUIRE(fd >= 0);
        ::close(fd);
        path = name;
        std::ofstream(path, std::ios::binary) << contents;
    }
    ~TempFile() { std::remove(path.c_str()); }
    std::string path;
};

// STARTTLS offered and accepted: what follows is the TLS handshake.
ScriptedPeer& proceed_to_tls(ScriptedPeer& peer) {
    return peer.expect("<stream:stream")
        .send(client_header + starttls_features)
        .expect("<starttls")
        .send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
}

// A TLS handshake record: what a ClientHello starts with.
const std::string client_hello("\x16\x03", 2);

std::string system_bundle() {
    std::ifstream in("/etc/ssl/certs/ca-certificates.crt", std::ios::binary | std::ios::ate);
    std::string data(static_cast<std::size_t>(in.tellg()), '\0');
    in.seekg(0);
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    return data;
}

} // namespace

TEST_CASE("events: the CA file is read at the first TLS start, with its file records, then "
          "ssl_start; a handshake that fails is ssl_failed",
          "[protocol][events][tls][files]") {
    const TempFile ca(system_bundle());
    REQUIRE(ca.path.size() > 0);
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    proceed_to_tls(peer)
        .expect(client_hello)
        .send("this is not TLS at all, and certainly not a ServerHello\r\n\r\n")
        .wait_close();
    Config cfg = xmpp_config(peer.port());
    cfg.tls.policy = TlsPolicy::required;
    cfg.tls.ca_file = ca.path;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    const auto names = rec.names_in(sock::all);
    std::vector<std::string> files;
    std::uint64_t total = 0, last_total = 0;
    for (const auto& s : rec.seen) {
        const auto* r = std::get_if<SocketRecord>(&s.payload);
        if (r == nullptr || r->source != Source::file) {
            continue;
        }
        files.push_back(s.name);
        CHECK(r->name == ca.path);
        CHECK(r->purpose == "ca_file");
        if (s.name == sock::DATA_READ) {
            total += r->bytes;
            CHECK(r->total == total);
            last_total = r->total;
        }
    }
    REQUIRE(files.size() >= 3);
    CHECK(files[0] == sock::OPEN_FILE);
    CHECK(files[1] == sock::FILE_OPENED);
    CHECK(files[2] == sock::DATA_READ);
    CHECK(last_total == system_bundle().size());
    CHECK(sequence(rec, xs::all, stanzas) ==
          "start_stream open start_tls sasl_support tls_proceed");
    CHECK(sequence(rec, net::all, traffic) ==
          "tcp_established ready_to_read ssl_start ssl_failed tcp_disconnect");
    // The files were read after <proceed/>, before EVENT_START_SSL (source TLS).
    std::string order;
    for (const auto& s : rec.seen) {
        if (s.name == xs::TLS_PROCEED || s.name == sock::OPEN_FILE || s.name == sock::START_SSL) {
            order += s.name + " ";
        }
    }
    CHECK(order == "tls_proceed EVENT_OPEN_FILE EVENT_START_SSL ");
    const Seen* start_ssl = rec.last(sock::START_SSL);
    REQUIRE(start_ssl);
    CHECK(std::get<SocketRecord>(start_ssl->payload).source == Source::tls);
    const Seen* ssl_failed = rec.last(net::SSL_FAILED);
    REQUIRE(ssl_failed);
    REQUIRE(ssl_failed->reason);
    CHECK(ssl_failed->reason->condition == "ssl_failed");
    REQUIRE(rec.has(ev::SSLFAIL));

    // The credentials are cached per process: a second component with the same file reads
    // nothing.
    ScriptedPeer again(f.loop());
    proceed_to_tls(again).expect(client_hello).send("still not TLS\r\n\r\n").wait_close();
    cfg.port = again.port();
    Component second(cfg, f.loop());
    Recorder rec2(second);
    second.connect();
    REQUIRE(f.run_until([&] { return ended(second); }));
    CHECK(rec2.has(sock::START_SSL));
    CHECK_FALSE(rec2.has(sock::OPEN_FILE));
    CHECK_FALSE(rec2.has(sock::DATA_READ));
}

TEST_CASE("events: a CA file that cannot be read is a ConfigError at construction; one without "
          "certificates fails TLS naming it",
          "[protocol][events][tls][files]") {
    Config cfg = xmpp_config(5222);
    cfg.tls.policy = TlsPolicy::required;
    cfg.tls.ca_file = "/nonexistent/pcj-ca.pem";
    CHECK_THROWS_AS(static_cast<void>(Component(cfg)), ConfigError);

    const TempFile empty("");
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    proceed_to_tls(peer).wait_close();
    cfg.port = peer.port();
    cfg.tls.ca_file = empty.path;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK(rec.has(sock::OPEN_FILE));
    CHECK_FALSE(rec.has(sock::START_SSL));
    const Seen* failed = rec.last(net::SSL_FAILED);
    REQUIRE(failed);
    REQUIRE(failed->reason);
    CHECK(failed->reason->text.find(empty.path) != std::string::npos);
    const Seen* sslfail = rec.last(ev::SSLFAIL);
    REQUIRE(sslfail);
    REQUIRE(sslfail->reason);
    CHECK(sslfail->reason->text.find(empty.path) != std::string::npos);
}
