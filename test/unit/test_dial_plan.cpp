// The order a connection dials in (RFC 2782, XEP-0368, RFC 8305 §4), the resolver's callback
// rules, and the DNS settings of Config. The same order against a real DNS server:
// test/integration/test_dns_servers.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>

#include <netinet/in.h>
#include <uv.h>

#include "dial_plan.hpp"
#include "loop_fixture.hpp"
#include "pcj/pcj.hpp"
#include "resolver.hpp"

using namespace pcj;
using namespace pcj::detail;

namespace {

DialTarget record(const std::string& host, std::uint16_t priority, std::uint16_t weight,
                  bool direct = false) {
    DialTarget t;
    t.host = host;
    t.port = 5222;
    t.priority = priority;
    t.weight = weight;
    t.direct_tls = direct;
    return t;
}

std::vector<std::string> hosts(const std::vector<DialTarget>& targets) {
    std::vector<std::string> out;
    for (const auto& t : targets) {
        out.push_back(t.host);
    }
    return out;
}

// A Pick that returns the given numbers in turn and records each bound it was asked for.
struct ScriptedPick {
    std::deque<std::uint32_t> numbers;
    std::vector<std::uint32_t> bounds;
    Pick pick() {
        return [this](std::uint32_t bound) {
            bounds.push_back(bound);
            const std::uint32_t n = numbers.empty() ? 0 : numbers.front();
            if (!numbers.empty()) {
                numbers.pop_front();
            }
            return n;
        };
    }
};

sockaddr_storage v4(const char* text) {
    sockaddr_storage s{};
    uv_ip4_addr(text, 1, reinterpret_cast<sockaddr_in*>(&s));
    return s;
}

sockaddr_storage v6(const char* text) {
    sockaddr_storage s{};
    uv_ip6_addr(text, 1, reinterpret_cast<sockaddr_in6*>(&s));
    return s;
}

std::string text(const sockaddr_storage& s) {
    char buf[64] = {};
    if (s.ss_family == AF_INET6) {
        uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(&s), buf, sizeof buf);
    } else {
        uv_ip4_name(reinterpret_cast<const sockaddr_in*>(&s), buf, sizeof buf);
    }
    return buf;
}

} // namespace

TEST_CASE("dial plan: lower priorities come first, whatever their weight", "[dns][dial_plan]") {
    ScriptedPick p;
    const auto out =
        order_srv({record("c", 30, 100), record("a", 10, 0), record("b", 20, 50)}, p.pick());
    CHECK(hosts(out) == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("dial plan: within a priority, RFC 2782's running sums choose by weight",
          "[dns][dial_plan]") {
    // Zero weight first in the sums: a(0) b(10) c(30) → running sums 0, 10, 40.
    ScriptedPick p;
    p.numbers = {11, 0, 5}; // 11 → c (first sum >= 11); then sums a 0, b 10: 0 → a; then b
    const auto out =
        order_srv({record("b", 5, 10), record("c", 5, 30), record("a", 5, 0)}, p.pick());
    CHECK(hosts(out) == std::vector<std::string>{"c", "a", "b"});
    CHECK(p.bounds == std::vector<std::uint32_t>{40, 10, 10});
}

TEST_CASE("dial plan: a drawn 0 takes a zero-weight record, the top of the range the last",
          "[dns][dial_plan]") {
    ScriptedPick p;
    p.numbers = {0, 20};
    const auto out =
        order_srv({record("heavy", 1, 20), record("zero", 1, 0), record("mid", 1, 10)}, p.pick());
    REQUIRE(out.size() == 3);
    CHECK(out[0].host == "zero");
    CHECK(out[1].host == "heavy"); // then sums heavy 20, mid 30: 20 picks heavy
    CHECK(out[2].host == "mid");
}

TEST_CASE("dial plan: weights hold over many draws with the real random source",
          "[dns][dial_plan]") {
    int heavy_first = 0;
    const Pick pick = random_pick();
    for (int i = 0; i < 1000; ++i) {
        const auto out = order_srv({record("light", 0, 10), record("heavy", 0, 90)}, pick);
        heavy_first += out.front().host == "heavy" ? 1 : 0;
    }
    // Expected about 900 (90/101 ≈ 891 with RFC 2782's inclusive range); 6 standard deviations.
    CHECK(heavy_first > 830);
    CHECK(heavy_first < 950);
}

TEST_CASE("dial plan: XEP-0368 mixes Direct TLS and STARTTLS records as one set",
          "[dns][dial_plan]") {
    ScriptedPick p;
    const auto out = merge_srv({record("starttls-10", 10, 0), record("starttls-30", 30, 0)},
                               {record("direct-20", 20, 0, true)}, false, p.pick());
    CHECK(hosts(out) == std::vector<std::string>{"starttls-10", "direct-20", "starttls-30"});
    CHECK_FALSE(out[0].direct_tls);
    CHECK(out[1].direct_tls);
}

TEST_CASE("dial plan: preferring Direct TLS puts every Direct TLS record first",
          "[dns][dial_plan]") {
    ScriptedPick p;
    const auto out = merge_srv({record("starttls-10", 10, 0)},
                               {record("direct-30", 30, 0, true), record("direct-20", 20, 0, true)},
                               true, p.pick());
    CHECK(hosts(out) == std::vector<std::string>{"direct-20", "direct-30", "starttls-10"});
}

TEST_CASE("dial plan: '.' alone means the service is not available; '.' is never a target",
          "[dns][dial_plan]") {
    CHECK(service_refused({SrvAnswer{".", 0, 0, 0}}));
    CHECK_FALSE(service_refused({}));
    CHECK_FALSE(service_refused({SrvAnswer{"xmpp.example.org", 5222, 0, 0}}));
    CHECK(targets_of({SrvAnswer{".", 0, 0, 0}}, "_xmpp-client._tcp", false).empty());
    const auto t = targets_of({SrvAnswer{"x.example.org", 5223, 1, 2}}, "_xmpps-client._tcp", true);
    REQUIRE(t.size() == 1);
    CHECK(t[0].host == "x.example.org");
    CHECK(t[0].port == 5223);
    CHECK(t[0].direct_tls);
    CHECK(t[0].service == "_xmpps-client._tcp");
}

TEST_CASE("dial plan: RFC 8305 interleaves the families, starting with the first one's",
          "[dns][dial_plan]") {
    const auto out = interleave({v6("2001:db8::1"), v6("2001:db8::2"), v6("2001:db8::3"),
                                 v4("192.0.2.1"), v4("192.0.2.2")});
    std::vector<std::string> got;
    for (const auto& a : out) {
        got.push_back(text(a));
    }
    CHECK(got == std::vector<std::string>{"2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2",
                                          "2001:db8::3"});
    const auto v4_first = interleave({v4("192.0.2.1"), v6("2001:db8::1"), v6("2001:db8::2")});
    CHECK(text(v4_first[0]) == "192.0.2.1");
    CHECK(text(v4_first[1]) == "2001:db8::1");
    CHECK(text(v4_first[2]) == "2001:db8::2");
}

TEST_CASE("dns config: a client may leave ip and port empty, a component may not",
          "[dns][config]") {
    Config c;
    c.connection_type = ConnectionType::XMPP;
    c.hostname = "example.org";
    c.username = "alice";
    c.password = "secret";
    REQUIRE_NOTHROW(c.validate_and_complete());
    c.connection_type = ConnectionType::LEGACY;
    REQUIRE_NOTHROW(c.validate_and_complete());
    c.connection_type = ConnectionType::JABBERD20_COMPONENT;
    REQUIRE_THROWS_WITH(c.validate_and_complete(), Catch::Contains("ip"));
    c.ip = "router.example.org";
    REQUIRE_THROWS_WITH(c.validate_and_complete(), Catch::Contains("port"));
}

TEST_CASE("dns config: DNS servers are addresses with an optional port", "[dns][config]") {
    Config c;
    c.connection_type = ConnectionType::XMPP;
    c.hostname = "example.org";
    c.username = "alice";
    c.dns.servers = {"127.0.0.1", "127.0.0.1:5353", "::1", "[::1]:53"};
    REQUIRE_NOTHROW(c.validate_and_complete());
    for (const char* bad : {"localhost", "127.0.0.1:0", "127.0.0.1:70000", "[::1", "1.2.3.4:x"}) {
        CAPTURE(bad);
        c.dns.servers = {bad};
        REQUIRE_THROWS_WITH(c.validate_and_complete(), Catch::Contains("dns.servers"));
        CHECK_FALSE(valid_dns_server(bad));
    }
    CHECK(valid_dns_server("[::1]:5353"));
    CHECK(valid_dns_server("127.0.0.1:5353"));
}

// "localhost" comes from the hosts file, so these ask no DNS server; the one configured is a
// loopback port nobody answers on, in case the hosts file lacks it.
TEST_CASE("resolver: a result arrives from the loop, never inside the call", "[dns][resolver]") {
    pcj::test::LoopFixture f;
    ResolverOptions options;
    options.servers = {"127.0.0.1:9"};
    options.timeout = std::chrono::milliseconds(200);
    options.tries = 1;
    auto resolver = std::make_unique<Resolver>(f.loop(), options);
    int calls = 0;
    std::vector<std::string> found;
    resolver->addresses(
        "localhost", 5222, [&](const LookupStatus& s, std::vector<sockaddr_storage> addresses) {
            ++calls;
            CHECK(s.ok());
            for (const auto& a : addresses) {
                found.push_back(text(a));
                CHECK(ntohs(reinterpret_cast<const sockaddr_in*>(&a)->sin_port) == 5222);
            }
            resolver.reset(); // destroying it from its own callback is allowed
        });
    CHECK(calls == 0);
    REQUIRE(f.run_until([&] { return calls > 0; }));
    CHECK(calls == 1);
    CHECK(std::find(found.begin(), found.end(), "127.0.0.1") != found.end());
}

TEST_CASE("resolver: cancel() drops the lookups under way without a callback", "[dns][resolver]") {
    pcj::test::LoopFixture f;
    ResolverOptions options;
    options.servers = {"127.0.0.1:9"};
    Resolver resolver(f.loop(), options);
    int calls = 0;
    resolver.addresses("localhost", 1, [&](const LookupStatus&, auto) { ++calls; });
    resolver.srv("_xmpp-client._tcp.localhost", [&](const LookupStatus&, auto) { ++calls; });
    resolver.cancel();
    f.run_for(std::chrono::milliseconds(100));
    CHECK(calls == 0);
}
