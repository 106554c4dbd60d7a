// The connection and stream events and the socket records (doc/origins.md) against real servers:
// the exact sequence of a STARTTLS + SCRAM login on Prosody with its payloads, the two
// certificate failures, an accepted XEP-0114 handshake, and a reconnect.
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include <unistd.h>

#include "configs.hpp"
#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "servers.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

ServerPool servers;

// The server's CA under a name nothing else in this process uses, so that this component is
// the one that reads it (credentials are cached per process, by file name).
struct CaCopy {
    explicit CaCopy(const std::string& from) {
        char name[] = "/tmp/pcj-events-ca-XXXXXX";
        const int fd = ::mkstemp(name);
        REQUIRE(fd >= 0);
        ::close(fd);
        path = name;
        std::filesystem::copy_file(from, path, std::filesystem::copy_options::overwrite_existing);
    }
    ~CaCopy() { std::remove(path.c_str()); }
    std::string path;
};

const std::set<std::string_view> packets = {sock::PACKET_READ, sock::PACKET_SENT, sock::DATA_READ};
const std::set<std::string_view> traffic = {net::READ, net::WRITE, net::READY_TO_WRITE};
const std::set<std::string_view> stanzas = {xs::FEED,      xs::NODE,   xs::IQ,      xs::IQ_SET,
                                            xs::IQ_RESULT, xs::IQ_GET, xs::IQ_ERROR};

// Checks that each record's count is a running total of its byte counts; returns the sum.
template <typename T>
std::uint64_t running_sum(const Recorder& rec, std::string_view name,
                          std::optional<Source> source = {}) {
    std::uint64_t sum = 0;
    for (const auto& s : rec.seen) {
        if (s.name != name) {
            continue;
        }
        const T* p = std::get_if<T>(&s.payload);
        REQUIRE(p);
        if constexpr (std::is_same_v<T, SocketRecord>) {
            if (source && p->source != *source) {
                continue;
            }
        }
        sum += p->bytes;
        CHECK(p->total == sum);
    }
    return sum;
}

} // namespace

TEST_CASE("events servers: a STARTTLS + SCRAM login on Prosody fires exactly these socket, "
          "connection and stream events, with their payloads",
          "[integration][events][prosody]") {
    TestServer& s = servers.get(ServerKind::prosody);
    const CaCopy ca(s.get("CA_FILE"));
    LoopFixture f;
    Config cfg = c2s_config(s, ConnectionType::XMPP, "pcjevents");
    cfg.tls.ca_file = ca.path;
    cfg.sasl.mechanisms = {"SCRAM-SHA-256"};
    Component c(cfg, f.loop());
    Recorder rec(c);
    connect_ready(f, c, 20s);
    const std::uint64_t id = c.connection_id();
    shutdown_and_wait(f, c, 8s);

    CHECK(sequence(rec, sock::all, packets) ==
          "EVENT_CONNECTING EVENT_CONNECTED EVENT_OPEN_FILE EVENT_FILE_OPENED EVENT_START_SSL "
          "EVENT_SSL_ESTABLISHED EVENT_CHANNEL_CLOSED EVENT_DELETED");
    CHECK(sequence(rec, net::all, traffic) ==
          "tcp_established ready_to_read ssl_start ssl_established ready_to_read tcp_disconnect");
    CHECK(sequence(rec, xs::all, stanzas) ==
          "start_stream open start_tls tls_proceed start_stream open sasl_support "
          "sasl_challenge sasl_response sasl_success start_stream open bind_support bound_jid "
          "closed");

    // Common keys on every record.
    for (const auto& seen : rec.seen) {
        if (const auto* r = std::get_if<SocketRecord>(&seen.payload)) {
            CHECK(to_string(r->code) == seen.name);
            CHECK(r->id == id);
        }
    }
    const auto& connecting = std::get<SocketRecord>(rec.last(sock::CONNECTING)->payload);
    CHECK(connecting.address == s.get("HOST"));
    CHECK(connecting.family == AF_INET);
    CHECK(connecting.port == s.port("C2S_PORT"));
    const auto* endpoint = std::get_if<Endpoint>(&rec.last(net::TCP_ESTABLISHED)->payload);
    REQUIRE(endpoint);
    CHECK(endpoint->address == s.get("HOST"));
    CHECK(endpoint->port == s.port("C2S_PORT"));

    // The CA file, read once, whole.
    const std::uint64_t file_bytes = running_sum<SocketRecord>(rec, sock::DATA_READ);
    CHECK(file_bytes == std::filesystem::file_size(ca.path));
    CHECK(std::get<SocketRecord>(rec.last(sock::OPEN_FILE)->payload).purpose == "ca_file");
    CHECK(std::get<SocketRecord>(rec.last(sock::OPEN_FILE)->payload).name == ca.path);
    CHECK(std::get<SocketRecord>(rec.last(sock::OPEN_FILE)->payload).source == Source::file);

    const auto& established = std::get<SocketRecord>(rec.last(sock::SSL_ESTABLISHED)->payload);
    CHECK(established.source == Source::tls);
    CHECK_FALSE(established.cipher.empty());
    CHECK_FALSE(established.protocol.empty());
    const auto* tls = std::get_if<TlsInfo>(&rec.last(net::SSL_ESTABLISHED)->payload);
    REQUIRE(tls);
    CHECK(tls->cipher == established.cipher);
    CHECK(tls->protocol == established.protocol);
    CHECK(tls->peer == cfg.hostname);
    CHECK(tls->verified);

    // Bytes: running totals that add up; the plaintext is less than what crossed the socket.
    const std::uint64_t socket_in = running_sum<SocketRecord>(rec, sock::PACKET_READ);
    const std::uint64_t socket_out = running_sum<SocketRecord>(rec, sock::PACKET_SENT);
    const std::uint64_t plain_in = running_sum<Traffic>(rec, net::READ);
    const std::uint64_t plain_out = running_sum<Traffic>(rec, net::WRITE);
    CHECK(plain_in > 0);
    CHECK(plain_out > 0);
    CHECK(socket_in > plain_in);
    CHECK(socket_out > plain_out);
    for (const auto& seen : rec.seen) {
        if (seen.name == sock::PACKET_SENT) {
            const auto& r = std::get<SocketRecord>(seen.payload);
            CHECK(r.total_to_send >= r.total);
        }
    }
    std::uint64_t fed = 0;
    for (const auto& seen : rec.seen) {
        if (seen.name == xs::FEED) {
            fed += std::get<Text>(seen.payload).text.size();
        }
    }
    CHECK(fed == plain_in);

    const auto* mechanisms = std::get_if<Mechanisms>(&rec.last(xs::SASL_SUPPORT)->payload);
    REQUIRE(mechanisms);
    CHECK(std::find(mechanisms->names.begin(), mechanisms->names.end(), "SCRAM-SHA-256") !=
          mechanisms->names.end());
    const auto& challenge = std::get<pcj::SaslStep>(rec.last(xs::SASL_CHALLENGE)->payload);
    CHECK(challenge.mechanism == "SCRAM-SHA-256");
    CHECK_FALSE(challenge.data.empty());
    const Seen* response = rec.last(xs::SASL_RESPONSE);
    const auto& step = std::get<pcj::SaslStep>(response->payload);
    CHECK(step.mechanism == "SCRAM-SHA-256");
    CHECK(step.data.empty());
    CHECK(step.length > 0);
    CHECK_FALSE(response->node);
    CHECK_FALSE(std::get<pcj::SaslStep>(rec.last(xs::SASL_SUCCESS)->payload).data.empty());

    const auto* jid = std::get_if<Jid>(&rec.last(xs::BOUND_JID)->payload);
    REQUIRE(jid);
    CHECK(jid->local == cfg.username);
    CHECK(jid->domain == cfg.hostname);
    CHECK(jid->resource == cfg.resource);
    CHECK(jid->full == c.jid());
    CHECK_FALSE(rec.last(net::TCP_DISCONNECT)->reason); // our clean shutdown
}

TEST_CASE("events servers: an unknown CA is ssl_invalid_chain, a certificate for another name "
          "ssl_invalid_cert",
          "[integration][events][tls]") {
    LoopFixture f;
    Config cfg;
    std::string expected;
    SECTION("Prosody, the system trust store: ssl_invalid_chain") {
        cfg = c2s_config(servers.get(ServerKind::prosody), ConnectionType::XMPP, "pcjevents");
        cfg.tls.ca_file.clear();
        expected = std::string(net::SSL_INVALID_CHAIN);
    }
    SECTION("ejabberd Direct TLS, another name: ssl_invalid_cert") {
        // Prosody alerts on an unknown SNI name; ejabberd presents its certificate.
        TestServer& e = servers.get(ServerKind::ejabberd);
        cfg = c2s_config(e, ConnectionType::XMPP, "pcjevents");
        cfg.port = e.port("DIRECT_TLS_PORT");
        cfg.tls.policy = TlsPolicy::direct;
        cfg.hostname = "not-this-server.example";
        expected = std::string(net::SSL_INVALID_CERT);
    }
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    // A freshly started ejabberd on a loaded machine has taken over 15 s for its first Direct
    // TLS handshake; the bound only limits a hang, a pass returns as soon as the end is seen.
    REQUIRE(f.run_until([&] { return ended(c); }, 45s));
    const auto tls_events = rec.names_in(std::array<std::string_view, 5>{
        net::SSL_START, net::SSL_ESTABLISHED, net::SSL_INVALID_CHAIN, net::SSL_INVALID_CERT,
        net::SSL_FAILED});
    CHECK(join(tls_events) == "ssl_start " + expected);
    const Seen* failure = rec.last(expected);
    REQUIRE(failure->reason);
    CHECK(failure->reason->condition == expected);
    CHECK_FALSE(failure->reason->text.empty());
    CHECK(rec.has(sock::START_SSL));
    CHECK_FALSE(rec.has(sock::SSL_ESTABLISHED));
    // The connection ended because of it: tcp_disconnect carries the same reason.
    const Seen* gone = rec.last(net::TCP_DISCONNECT);
    REQUIRE(gone);
    REQUIRE(gone->reason);
    CHECK(gone->reason->condition == expected);
    CHECK(rec.has(sock::DELETED));
}

TEST_CASE("events servers: Prosody's component port accepts the handshake: success_handshake, "
          "then a reconnect is tcp_restablished",
          "[integration][events][j14]") {
    TestServer& s = servers.get(ServerKind::prosody);
    LoopFixture f;
    Component c(j14_config(s), f.loop());
    Recorder rec(c);
    connect_ready(f, c);
    CHECK(sequence(rec, xs::all, stanzas) == "start_stream open success_handshake");
    const Seen* accepted = rec.last(xs::SUCCESS_HANDSHAKE);
    REQUIRE(accepted->node);
    CHECK(accepted->node->local_name() == "handshake");
    const std::uint64_t first = c.connection_id();

    // The server drops every connection; the application reconnects.
    s.kill();
    REQUIRE(f.run_until([&] { return ended(c); }));
    const Seen* lost = rec.last(net::TCP_DISCONNECT);
    REQUIRE(lost);
    REQUIRE(lost->reason); // lost, not closed by us
    CHECK(lost->reason->op == "read");
    s.restart();
    c.reconnect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    REQUIRE(c.ready());
    CHECK(c.connection_id() != first);
    CHECK(sequence(rec, net::all, traffic) ==
          "tcp_established ready_to_read tcp_disconnect tcp_restablished ready_to_read");
    const auto* endpoint = std::get_if<Endpoint>(&rec.last(net::TCP_RESTABLISHED)->payload);
    REQUIRE(endpoint);
    CHECK(endpoint->port == s.port("COMPONENT_PORT"));
    CHECK(sequence(rec, sock::all, packets) ==
          "EVENT_CONNECTING EVENT_CONNECTED EVENT_CHANNEL_CLOSED EVENT_DELETED EVENT_CONNECTING "
          "EVENT_CONNECTED");
    shutdown_and_wait(f, c);
}
