// Finding the server through DNS (RFC 6120 §3.2, XEP-0368, RFC 8305) against a real DNS server:
// dnsmasq on 127.0.0.1 with its own port and records (dns_server.hpp). First the transport
// alone, dialling local listeners; then whole logins to Prosody found through SRV records.
#include <catch2/catch.hpp>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "configs.hpp"
#include "dns_server.hpp"
#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "scripted_peer.hpp"
#include "servers.hpp"
#include "transport.hpp"

using namespace pcj;
using namespace pcj::test;
using pcj::detail::Destination;
using pcj::detail::Transport;
using namespace std::chrono_literals;

namespace {

ServerPool servers;

std::string port_text(std::uint16_t port) {
    return std::to_string(port);
}

// Everything a dial reports.
struct Dial {
    std::vector<std::string> lookups;
    std::vector<SrvRecord> records;
    std::vector<Reason> fallbacks;
    std::vector<std::string> connecting; // "ADDRESS:PORT"
    std::vector<std::pair<Attempt, Reason>> failed;
    std::vector<Reason> failures;
    bool connected = false;

    Transport::Callbacks callbacks() {
        Transport::Callbacks cb;
        cb.on_resolving = [this](const std::string& host) {
            lookups.push_back(host);
        };
        cb.on_srv_record = [this](const SrvRecord& r) {
            records.push_back(r);
        };
        cb.on_srv_fallback = [this](const Reason& r) {
            fallbacks.push_back(r);
        };
        cb.on_connecting = [this](const std::string& a, int, std::uint16_t port) {
            connecting.push_back(a + ":" + port_text(port));
        };
        cb.on_attempt_failed = [this](const Attempt& a, const Reason& r) {
            failed.emplace_back(a, r);
        };
        cb.on_connected = [this] {
            connected = true;
        };
        cb.on_failure = [this](const Reason& r) {
            failures.push_back(r);
        };
        return cb;
    }
    bool over() const { return connected || !failures.empty(); }
};

Destination srv_destination(const DnsServer& dns, const std::string& domain) {
    Destination d;
    d.srv_domain = domain;
    d.dns.servers = {dns.address()};
    d.dns.timeout = 2s;
    d.timeout = 5s;
    return d;
}

// A listening TCP socket on 127.0.0.1 whose accept queue is full: a connect to it waits for an
// answer that never comes, as behind a firewall that drops packets.
class Unanswered {
public:
    Unanswered() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        REQUIRE(::listen(fd_, 0) == 0);
        for (int i = 0; i < 32; ++i) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            fillers_.push_back(fd);
            if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
                continue;
            }
            REQUIRE(errno == EINPROGRESS);
            pollfd p{fd, POLLOUT, 0};
            if (::poll(&p, 1, 200) == 0) {
                return; // this handshake is unanswered: the queue is full
            }
        }
        FAIL("could not fill the accept queue");
    }
    ~Unanswered() {
        for (int fd : fillers_) {
            ::close(fd);
        }
        ::close(fd_);
    }
    std::uint16_t port() const { return port_; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::vector<int> fillers_;
};

} // namespace

// -- the transport against dnsmasq ----------------------------------------------------------------

TEST_CASE("dns: SRV priorities are tried in order and a refusing target fails over to the next",
          "[integration][dns]") {
    LoopFixture f;
    ScriptedPeer up(f.loop());
    ScriptedPeer later(f.loop());
    RefusingPort down;
    DnsServer dns({
        "--srv-host=_xmpp-client._tcp.prio.pcj.test,down.pcj.test," + port_text(down.port()) +
            ",10,0",
        "--srv-host=_xmpp-client._tcp.prio.pcj.test,up.pcj.test," + port_text(up.port()) + ",20,0",
        "--srv-host=_xmpp-client._tcp.prio.pcj.test,later.pcj.test," + port_text(later.port()) +
            ",30,0",
        "--host-record=down.pcj.test,127.0.0.1",
        "--host-record=up.pcj.test,127.0.0.1",
        "--host-record=later.pcj.test,127.0.0.1",
    });
    Dial dial;
    Transport t(f.loop(), dial.callbacks());
    t.connect(srv_destination(dns, "prio.pcj.test"));
    REQUIRE(f.run_until([&] { return dial.over(); }, 10s));
    INFO(dns.log());

    REQUIRE(dial.records.size() == 3);
    CHECK(dial.records[0].target == "down.pcj.test");
    CHECK(dial.records[1].target == "up.pcj.test");
    CHECK(dial.records[2].target == "later.pcj.test");
    CHECK(dial.records[0].service == "_xmpp-client._tcp");
    CHECK(dial.records[1].priority == 20);
    CHECK(dial.fallbacks.empty());
    REQUIRE(dial.connected);
    CHECK(t.peer().name == "up.pcj.test");
    CHECK(t.peer().port == up.port());
    CHECK_FALSE(t.peer().direct_tls);
    REQUIRE(dial.failed.size() == 1);
    CHECK(dial.failed[0].first.name == "down.pcj.test");
    CHECK(dial.failed[0].first.address == "127.0.0.1");
    CHECK(dial.failed[0].first.port == down.port());
    CHECK(dial.failed[0].second.op == "connect");
    CHECK(dial.failed[0].second.code == ECONNREFUSED);
    // Both SRV names, then each target as it was needed; "later" never was.
    CHECK(dial.lookups == std::vector<std::string>{"_xmpp-client._tcp.prio.pcj.test",
                                                   "_xmpps-client._tcp.prio.pcj.test",
                                                   "down.pcj.test", "up.pcj.test"});
}

TEST_CASE("dns: SRV weights share the connections out within a priority (RFC 2782)",
          "[integration][dns]") {
    LoopFixture f;
    ScriptedPeer heavy(f.loop());
    ScriptedPeer light(f.loop());
    DnsServer dns({
        "--srv-host=_xmpp-client._tcp.weights.pcj.test,heavy.pcj.test," + port_text(heavy.port()) +
            ",5,75",
        "--srv-host=_xmpp-client._tcp.weights.pcj.test,light.pcj.test," + port_text(light.port()) +
            ",5,25",
        "--host-record=heavy.pcj.test,127.0.0.1",
        "--host-record=light.pcj.test,127.0.0.1",
    });
    int to_heavy = 0;
    int to_light = 0;
    for (int i = 0; i < 40; ++i) {
        Dial dial;
        Transport t(f.loop(), dial.callbacks());
        t.connect(srv_destination(dns, "weights.pcj.test"));
        REQUIRE(f.run_until([&] { return dial.over(); }, 10s));
        REQUIRE(dial.connected);
        REQUIRE(dial.records.size() == 2);
        CHECK(dial.records[0].target == t.peer().name);
        (t.peer().name == "heavy.pcj.test" ? to_heavy : to_light) += 1;
        t.abort();
    }
    // 75/101 of 40 ≈ 30 expected (σ ≈ 2.8); both bounds are more than 4σ away.
    CAPTURE(to_heavy, to_light);
    CHECK(to_heavy >= 18);
    CHECK(to_heavy <= 39);
    CHECK(to_heavy + to_light == 40);
}

TEST_CASE("dns: a Direct TLS record is preferred where configured, mixed in by priority otherwise",
          "[integration][dns]") {
    LoopFixture f;
    ScriptedPeer starttls(f.loop());
    ScriptedPeer direct(f.loop());
    DnsServer dns({
        "--srv-host=_xmpp-client._tcp.mix.pcj.test,plain.pcj.test," + port_text(starttls.port()) +
            ",10,0",
        "--srv-host=_xmpps-client._tcp.mix.pcj.test,tls.pcj.test," + port_text(direct.port()) +
            ",20,0",
        "--host-record=plain.pcj.test,127.0.0.1",
        "--host-record=tls.pcj.test,127.0.0.1",
    });
    const bool prefer = GENERATE(false, true);
    CAPTURE(prefer);
    Dial dial;
    Transport t(f.loop(), dial.callbacks());
    Destination d = srv_destination(dns, "mix.pcj.test");
    d.prefer_direct_tls = prefer;
    t.connect(d);
    REQUIRE(f.run_until([&] { return dial.over(); }, 10s));
    REQUIRE(dial.connected);
    REQUIRE(dial.records.size() == 2);
    CHECK(dial.records[0].direct_tls == prefer);
    CHECK(t.peer().direct_tls == prefer);
    CHECK(t.peer().port == (prefer ? direct.port() : starttls.port()));
    CHECK(t.peer().name == (prefer ? "tls.pcj.test" : "plain.pcj.test"));
}

TEST_CASE("dns: an SRV target '.' means the service is not available: no fallback, no attempt",
          "[integration][dns]") {
    LoopFixture f;
    DnsServer dns(
        {"--srv-host=_xmpp-client._tcp.gone.pcj.test", "--host-record=gone.pcj.test,127.0.0.1"});
    Dial dial;
    Transport t(f.loop(), dial.callbacks());
    t.connect(srv_destination(dns, "gone.pcj.test"));
    REQUIRE(f.run_until([&] { return dial.over(); }, 10s));
    INFO(dns.log());
    REQUIRE(dial.failures.size() == 1);
    CHECK(dial.failures[0].op == "resolve");
    CHECK(dial.failures[0].condition == "service-unavailable");
    CHECK(dial.connecting.empty());
    CHECK(dial.fallbacks.empty());
    CHECK_FALSE(dial.connected);
}

TEST_CASE("dns: without SRV records the domain itself is tried (RFC 6120 §3.2.2)",
          "[integration][dns]") {
    LoopFixture f;
    ScriptedPeer server(f.loop());
    DnsServer dns({"--host-record=bare.pcj.test,127.0.0.1"});
    Dial dial;
    Transport t(f.loop(), dial.callbacks());
    Destination d = srv_destination(dns, "bare.pcj.test");
    d.port = server.port(); // stands in for 5222, which a test cannot take
    t.connect(d);
    REQUIRE(f.run_until([&] { return dial.over(); }, 10s));
    INFO(dns.log());
    REQUIRE(dial.fallbacks.size() == 1);
    CHECK(dial.fallbacks[0].code == -UV_EAI_NONAME);
    CHECK(dial.records.empty());
    REQUIRE(dial.connected);
    CHECK(t.peer().name == "bare.pcj.test");
    CHECK(t.peer().port == server.port());
}

TEST_CASE("dns: a DNS server that does not answer times out, then the domain is tried",
          "[integration][dns]") {
    LoopFixture f;
    ScriptedPeer server(f.loop());
    SilentUdpPort silent;
    Dial dial;
    Transport t(f.loop(), dial.callbacks());
    Destination d;
    d.srv_domain = "localhost"; // the fallback finds it in the hosts file, not through DNS
    d.port = server.port();
    d.dns.servers = {"127.0.0.1:" + port_text(silent.port())};
    d.dns.timeout = 300ms;
    d.dns.tries = 1;
    d.timeout = 5s;
    const auto start = std::chrono::steady_clock::now();
    t.connect(d);
    REQUIRE(f.run_until([&] { return dial.over(); }, 10s));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    REQUIRE(dial.fallbacks.size() == 1);
    CHECK(dial.fallbacks[0].op == "resolve");
    CHECK(dial.fallbacks[0].code == -UV_EAI_AGAIN);
    CAPTURE(dial.fallbacks[0].text);
    CHECK(dial.fallbacks[0].text.find("imeout") != std::string::npos);
    CHECK(elapsed >= 290ms);
    REQUIRE(dial.connected);
    CHECK(t.peer().address == "127.0.0.1");
    CHECK(t.peer().port == server.port());
}

TEST_CASE("dns: a target that drops the handshake does not hold up the next one (RFC 8305)",
          "[integration][dns]") {
    LoopFixture f;
    Unanswered slow;
    ScriptedPeer fast(f.loop());
    DnsServer dns({
        "--srv-host=_xmpp-client._tcp.he.pcj.test,slow.pcj.test," + port_text(slow.port()) +
            ",10,0",
        "--srv-host=_xmpp-client._tcp.he.pcj.test,fast.pcj.test," + port_text(fast.port()) +
            ",20,0",
        "--host-record=slow.pcj.test,127.0.0.1",
        "--host-record=fast.pcj.test,127.0.0.1",
    });
    Dial dial;
    Transport t(f.loop(), dial.callbacks());
    Destination d = srv_destination(dns, "he.pcj.test");
    d.timeout = 8s;
    d.attempt_delay = 100ms;
    const auto start = std::chrono::steady_clock::now();
    t.connect(d);
    REQUIRE(f.run_until([&] { return dial.over(); }, 10s));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    REQUIRE(dial.connected);
    CHECK(t.peer().name == "fast.pcj.test");
    REQUIRE(dial.connecting.size() == 2);
    CHECK(dial.connecting[0] == "127.0.0.1:" + port_text(slow.port()));
    CHECK(elapsed >= 100ms);
    CHECK(elapsed < 3s);        // not the 8 s connect timeout of the first attempt
    CHECK(dial.failed.empty()); // the slow attempt was dropped, not failed
}

TEST_CASE("dns: a target with IPv6 and IPv4 addresses gets both tried, interleaved",
          "[integration][dns]") {
    LoopFixture f;
    ScriptedPeer server(f.loop()); // 127.0.0.1 only: ::1 on that port refuses
    DnsServer dns({
        "--srv-host=_xmpp-client._tcp.dual.pcj.test,dual.pcj.test," + port_text(server.port()) +
            ",0,0",
        "--host-record=dual.pcj.test,127.0.0.1,::1",
    });
    Dial dial;
    Transport t(f.loop(), dial.callbacks());
    Destination d = srv_destination(dns, "dual.pcj.test");
    d.attempt_delay = 0ms; // one at a time, so that the order is plain to see
    t.connect(d);
    REQUIRE(f.run_until([&] { return dial.over(); }, 10s));
    REQUIRE(dial.connected);
    CHECK(t.peer().address == "127.0.0.1");
    // Whichever family comes first, the other follows it; ::1 refused if it came first.
    if (dial.connecting.size() == 2) {
        CHECK(dial.connecting[0] == "::1:" + port_text(server.port()));
        REQUIRE(dial.failed.size() == 1);
        CHECK(dial.failed[0].first.family == AF_INET6);
        CHECK(dial.failed[0].second.code == ECONNREFUSED);
    } else {
        CHECK(dial.connecting == std::vector<std::string>{"127.0.0.1:" + port_text(server.port())});
    }
}

// -- whole logins against Prosody
// ------------------------------------------------------------------

namespace {

Config srv_client(const TestServer& s, const DnsServer& dns, ConnectionType type) {
    Config c = c2s_config(s, type, "dns");
    c.ip.clear();
    c.port = 0;
    c.dns.servers = {dns.address()};
    return c;
}

const Seen* first(const Recorder& rec, std::string_view name) {
    for (const auto& s : rec.seen) {
        if (s.name == name) {
            return &s;
        }
    }
    return nullptr;
}

} // namespace

TEST_CASE("dns: an XMPP client logs in to Prosody through SRV records whose first target refuses;"
          " the certificate is checked against the domain, not the target",
          "[integration][dns][prosody]") {
    TestServer& s = servers.get(ServerKind::prosody);
    RefusingPort down;
    DnsServer dns({
        "--srv-host=_xmpp-client._tcp.localhost,down.pcj.test," + port_text(down.port()) + ",0,0",
        "--srv-host=_xmpp-client._tcp.localhost,xmpp.pcj.test," + s.get("C2S_PORT") + ",10,0",
        "--host-record=down.pcj.test,127.0.0.1",
        "--host-record=xmpp.pcj.test,127.0.0.1",
    });
    const ConnectionType type = GENERATE(ConnectionType::XMPP, ConnectionType::LEGACY);
    CAPTURE(to_string(type));
    LoopFixture f;
    Component c(srv_client(s, dns, type), f.loop());
    Recorder rec(c);
    connect_ready(f, c, rec, 20s);
    INFO(dns.log());

    CHECK(rec.count(net::SRV_RECORD) == 2);
    const Seen* failed = first(rec, net::ATTEMPT_FAILED);
    REQUIRE(failed != nullptr);
    REQUIRE(failed->reason);
    CHECK(failed->reason->code == ECONNREFUSED);
    REQUIRE(std::get_if<Attempt>(&failed->payload) != nullptr);
    CHECK(std::get<Attempt>(failed->payload).name == "down.pcj.test");
    const Seen* established = first(rec, net::TCP_ESTABLISHED);
    REQUIRE(established != nullptr);
    REQUIRE(std::get_if<Endpoint>(&established->payload) != nullptr);
    CHECK(std::get<Endpoint>(established->payload).name == "xmpp.pcj.test");
    CHECK(std::get<Endpoint>(established->payload).port == s.port("C2S_PORT"));
    // "xmpp.pcj.test" is not in the certificate: verified TLS means the domain was checked.
    const Seen* tls = first(rec, net::SSL_ESTABLISHED);
    REQUIRE(tls != nullptr);
    REQUIRE(std::get_if<TlsInfo>(&tls->payload) != nullptr);
    CHECK(std::get<TlsInfo>(tls->payload).peer == "localhost");
    CHECK(std::get<TlsInfo>(tls->payload).verified);
    shutdown_and_wait(f, c);
}

TEST_CASE("dns: with Direct TLS configured the _xmpps-client record wins over a better STARTTLS "
          "one, and logs in over Direct TLS",
          "[integration][dns][prosody]") {
    TestServer& s = servers.get(ServerKind::prosody);
    DnsServer dns({
        "--srv-host=_xmpp-client._tcp.localhost,plain.pcj.test," + s.get("C2S_PORT") + ",0,0",
        "--srv-host=_xmpps-client._tcp.localhost,tls.pcj.test," + s.get("DIRECT_TLS_PORT") +
            ",10,0",
        "--host-record=plain.pcj.test,127.0.0.1",
        "--host-record=tls.pcj.test,127.0.0.1",
    });
    const TlsPolicy policy = GENERATE(TlsPolicy::direct, TlsPolicy::required);
    CAPTURE(to_string(policy));
    LoopFixture f;
    Config cfg = srv_client(s, dns, ConnectionType::XMPP);
    cfg.tls.policy = policy;
    Component c(cfg, f.loop());
    Recorder rec(c);
    connect_ready(f, c, rec, 20s);
    const Seen* established = first(rec, net::TCP_ESTABLISHED);
    REQUIRE(established != nullptr);
    const auto& peer = std::get<Endpoint>(established->payload);
    const bool direct = policy == TlsPolicy::direct;
    CHECK(peer.direct_tls == direct);
    CHECK(peer.port == s.port(direct ? "DIRECT_TLS_PORT" : "C2S_PORT"));
    CHECK(rec.has(xs::START_TLS) == !direct); // STARTTLS only on the STARTTLS record
    CHECK(rec.has(net::SSL_ESTABLISHED));
    shutdown_and_wait(f, c);
}

TEST_CASE("dns: a client whose DNS server does not answer falls back to the domain after the "
          "timeout and logs in",
          "[integration][dns][prosody]") {
    TestServer& s = servers.get(ServerKind::prosody);
    SilentUdpPort silent;
    LoopFixture f;
    Config cfg = c2s_config(s, ConnectionType::XMPP, "dns");
    cfg.ip.clear(); // port stays: the fallback's port instead of 5222
    cfg.dns.servers = {"127.0.0.1:" + port_text(silent.port())};
    cfg.dns.timeout = 300ms;
    cfg.dns.tries = 1;
    Component c(cfg, f.loop());
    Recorder rec(c);
    connect_ready(f, c, rec, 20s);
    REQUIRE(rec.has(net::SRV_FALLBACK));
    CHECK(rec.last(net::SRV_FALLBACK)->reason->code == -UV_EAI_AGAIN);
    CHECK_FALSE(rec.has(net::SRV_RECORD));
    shutdown_and_wait(f, c);
}

TEST_CASE("dns: a component given a host name looks it up with the same resolver",
          "[integration][dns][prosody]") {
    TestServer& s = servers.get(ServerKind::prosody);
    DnsServer dns({"--host-record=router.pcj.test,127.0.0.1"});
    LoopFixture f;
    Config cfg = j14_config(s);
    cfg.ip = "router.pcj.test";
    cfg.dns.servers = {dns.address()};
    Component c(cfg, f.loop());
    Recorder rec(c);
    connect_ready(f, c, rec, 20s);
    const Seen* lookup = first(rec, sock::HOSTNAME_LOOKUP);
    REQUIRE(lookup != nullptr);
    CHECK(std::get<SocketRecord>(lookup->payload).name == "router.pcj.test");
    const Seen* resolved = first(rec, sock::HOSTNAME_RESOLVED);
    REQUIRE(resolved != nullptr);
    CHECK(std::get<SocketRecord>(resolved->payload).address == "127.0.0.1");
    CHECK_FALSE(rec.has(net::SRV_RECORD)); // components never look up SRV records
    // dnsmasq writes its log from a queue: give it a moment.
    bool logged = false;
    f.run_until(
        [&] {
            logged = dns.log().find("query[A] router.pcj.test") != std::string::npos;
            return logged;
        },
        3s);
    INFO(dns.log());
    CHECK(logged);
    shutdown_and_wait(f, c);
}

// -- the example
// ------------------------------------------------------------------------------------

namespace {

struct Run {
    int status = -1;
    std::string output;
};

Run run(const std::string& command) {
    Run r;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::array<char, 4096> buf{};
    while (std::fgets(buf.data(), static_cast<int>(buf.size()), pipe) != nullptr) {
        r.output += buf.data();
    }
    const int rc = ::pclose(pipe);
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    return r;
}

} // namespace

TEST_CASE("dns: xmpp_client without --host logs in to Prosody through SRV records whose first "
          "target refuses",
          "[integration][dns][examples]") {
    const char* dir = std::getenv("PCJ_EXAMPLES_DIR");
    REQUIRE(dir != nullptr); // set by meson for the integration suite
    TestServer& s = servers.get(ServerKind::prosody);
    RefusingPort down;
    DnsServer dns({
        "--srv-host=_xmpp-client._tcp.localhost,down.pcj.test," + port_text(down.port()) + ",0,0",
        "--srv-host=_xmpp-client._tcp.localhost,xmpp.pcj.test," + s.get("C2S_PORT") + ",10,0",
        "--host-record=down.pcj.test,127.0.0.1",
        "--host-record=xmpp.pcj.test,127.0.0.1",
    });
    const Run r = run(std::string(dir) + "/xmpp_client --domain " + s.get("DOMAIN") + " --user " +
                      s.get("USER") + " --password " + s.get("PASSWORD") + " --ca-file " +
                      s.get("CA_FILE") + " --dns-server " + dns.address() + " --timeout 20");
    INFO(r.output);
    INFO(dns.log());
    CHECK(r.status == 0);
    CHECK(r.output.find("event: srv_record") != std::string::npos);
    CHECK(r.output.find("event: attempt_failed [connect") != std::string::npos);
    CHECK(r.output.find("OK: ready=1 echoed=1 disco=1 clean_shutdown=1") != std::string::npos);
}
