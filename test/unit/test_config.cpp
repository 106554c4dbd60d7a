// Config validation: a bad configuration is rejected at construction, with a clear message.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "pcj/pcj.hpp"
#include "sasl.hpp"
#include "sasl_mechanisms.hpp"

using namespace pcj;
using Catch::Matchers::Contains;

namespace {
Config j14() {
    Config c;
    c.ip = "127.0.0.1";
    c.port = 5347;
    c.hostname = "component.localhost";
    c.password = "secret";
    c.connection_type = ConnectionType::JABBERD14_COMPONENT;
    return c;
}
} // namespace

TEST_CASE("config: a complete XEP-0114 configuration is accepted without a username", "[config]") {
    Config c = j14();
    REQUIRE_NOTHROW(c.validate_and_complete());
    CHECK(c.effective_xmlns() == "jabber:component:accept");
    CHECK(c.effective_version().empty()); // pre-XMPP streams carry no version by default
}

TEST_CASE("config: each missing or bad field is named in the error", "[config]") {
    using Row = std::tuple<std::string, std::function<void(Config&)>>;
    auto [field, breakit] = GENERATE(table<std::string, std::function<void(Config&)>>({
        Row{"connection_type", [](Config& c) { c.connection_type.reset(); }},
        Row{"ip", [](Config& c) { c.ip.clear(); }},
        Row{"ip", [](Config& c) { c.ip = "local host"; }},
        Row{"port", [](Config& c) { c.port = 0; }},
        Row{"hostname", [](Config& c) { c.hostname.clear(); }},
        Row{"hostname", [](Config& c) { c.hostname = "user@host"; }},
        Row{"username", [](Config& c) {
                c.connection_type = ConnectionType::XMPP;
                c.username.clear();
            }},
        Row{"username", [](Config& c) { c.username = "a b"; }},
        Row{"version", [](Config& c) { c.version = ""; }},
        Row{"xmlns", [](Config& c) { c.xmlns = ""; }},
        Row{"connect_timeout", [](Config& c) { c.connect_timeout = std::chrono::milliseconds(-1); }},
        Row{"max_stanza_size", [](Config& c) { c.max_stanza_size = 10; }},
        Row{"max_depth", [](Config& c) { c.max_depth = 1; }},
        Row{"alias", [](Config& c) { c.alias.clear(); }},
        Row{"servers", [](Config& c) { c.servers = {{"127.0.0.1", 5347}}; }},
        Row{"servers", [](Config& c) {
                c.ip.clear();
                c.port = 0;
                c.servers = {{"127.0.0.1", 5347}, {"127.0.0.1", 0}};
            }},
        Row{"servers", [](Config& c) {
                c.ip.clear();
                c.port = 0;
                c.servers = {{"", 5347}};
            }},
        Row{"version", [](Config& c) { c.version = "banana"; }},
        Row{"version", [](Config& c) { c.version = "1."; }},
        Row{"hostname", [](Config& c) { c.hostname = "bad host!"; }},
        Row{"hostname", [](Config& c) { c.hostname = "a..b"; }},
        Row{"hostname", [](Config& c) { c.hostname = "-a.example"; }},
        Row{"ip", [](Config& c) { c.ip = "10.0.0.1;rm"; }},
        Row{"ip", [](Config& c) { c.ip = "[::1]"; }},
        Row{"sasl.mechanisms", [](Config& c) { c.sasl.mechanisms = {"SCRAM-SHA-256", "FOO"}; }},
        Row{"tls.pins", [](Config& c) { c.tls.pins = {"sha256:zz"}; }},
        Row{"tls.policy", [](Config& c) { c.tls.policy = static_cast<TlsPolicy>(42); }},
        Row{"queue.when_full", [](Config& c) { c.queue.when_full = static_cast<QueueFullPolicy>(7); }},
        Row{"dns.timeout", [](Config& c) { c.dns.timeout = std::chrono::hours(1000); }},
        Row{"dns.tries", [](Config& c) { c.dns.tries = 0; }},
        Row{"dns.servers", [](Config& c) { c.dns.servers = {"127.0.0.1:99999"}; }},
        Row{"reconnect.multiplier", [](Config& c) { c.reconnect.multiplier = 0.5; }},
        Row{"reconnect.multiplier", [](Config& c) { c.reconnect.multiplier = std::nan(""); }},
        Row{"reconnect.initial_delay", [](Config& c) { c.reconnect.initial_delay = {}; }},
        Row{"reconnect.max_delay", [](Config& c) {
                c.reconnect.max_delay = c.reconnect.initial_delay / 2;
            }},
        Row{"reconnect.min_delay", [](Config& c) {
                c.reconnect.min_delay = c.reconnect.max_delay + std::chrono::milliseconds(1);
            }},
        Row{"rate_limit.stanzas_per_second", [](Config& c) { c.rate_limit.stanzas_per_second = -1; }},
        Row{"rate_limit.bytes_per_second", [](Config& c) { c.rate_limit.bytes_per_second = 1e300; }},
        Row{"negotiation_timeout", [](Config& c) {
                c.negotiation_timeout = std::chrono::milliseconds(-5);
            }},
        Row{"shutdown_timeout", [](Config& c) { c.shutdown_timeout = std::chrono::seconds(-1); }},
        Row{"rts_timeout", [](Config& c) { c.rts_timeout = std::chrono::milliseconds(-1); }},
        Row{"stream_management.ack_after", [](Config& c) {
                c.stream_management.ack_after = std::chrono::milliseconds(-1);
            }},
        Row{"max_stanza_time", [](Config& c) { c.max_stanza_time = std::chrono::seconds(-1); }},
        Row{"bind_retries", [](Config& c) { c.bind_retries = 1000; }},
    }));
    Config c = j14();
    breakit(c);
    CAPTURE(field);
    REQUIRE_THROWS_AS(c.validate_and_complete(), ConfigError);
    REQUIRE_THROWS_WITH(c.validate_and_complete(), Contains(field));
}

TEST_CASE("config: a component rejects a bad configuration at construction", "[config]") {
    Config c = j14();
    c.port = 0;
    REQUIRE_THROWS_AS(Component(c), ConfigError);
}

TEST_CASE("config: an absent resource is generated, a given one is kept", "[config]") {
    Config a = j14();
    a.validate_and_complete();
    Config b = j14();
    b.validate_and_complete();
    CHECK(a.resource.size() > 8);
    CHECK(a.resource != b.resource);
    Config c = j14();
    c.resource = "0"; // PCJ's ||= replaced "0" with a random value; pcj keeps it
    c.validate_and_complete();
    CHECK(c.resource == "0");
}

TEST_CASE("config: per-type defaults follow PCJ, with pre-XMPP streams versionless", "[config]") {
    Config c = j14();
    c.username = "svc";
    c.connection_type = ConnectionType::JABBERD20_COMPONENT;
    c.validate_and_complete();
    CHECK(c.effective_xmlns() == "http://jabberd.jabberstudio.org/ns/component/1.0");
    CHECK(c.effective_version() == "1.0");
    CHECK(c.bind_domain == "svc.component.localhost");
    c.version = "0.9";
    CHECK(c.effective_version() == "0.9");
}

TEST_CASE("config: connection types parse from PCJ's names and numbers", "[config]") {
    CHECK(connection_type_from_string("XMPP") == ConnectionType::XMPP);
    CHECK(connection_type_from_string("4") == ConnectionType::XMPP);
    CHECK(connection_type_from_string("JABBERD14_COMPONENT") ==
          ConnectionType::JABBERD14_COMPONENT);
    CHECK(connection_type_from_string("0") == ConnectionType::JABBERD14_COMPONENT);
    CHECK(connection_type_from_string("2") == ConnectionType::JABBERD20_COMPONENT);
    CHECK_THROWS_AS(connection_type_from_string("3"), ConfigError);
    CHECK_THROWS_AS(connection_type_from_string("xmpp2"), ConfigError);
}

TEST_CASE("config: an unknown SASL mechanism is refused by its name, with the ones pcj offers",
          "[config]") {
    Config c = j14();
    c.sasl.mechanisms = {"FOO"};
    REQUIRE_THROWS_WITH(c.validate_and_complete(),
                        Contains("sasl.mechanisms: 'FOO' is not a mechanism pcj offers") &&
                            Contains("SCRAM-SHA-256"));
    c.sasl.mechanisms = {"SCRAM-SHA-256", "PLAIN"};
    REQUIRE_NOTHROW(c.validate_and_complete());
    c.connection_type = ConnectionType::LEGACY; // iq:auth's methods, not SASL's
    c.username = "alice";
    c.sasl.mechanisms = {"DIGEST", "PLAIN"};
    REQUIRE_NOTHROW(c.validate_and_complete());
    c.sasl.mechanisms = {"SCRAM-SHA-1"};
    REQUIRE_THROWS_WITH(c.validate_and_complete(),
                        Contains("'SCRAM-SHA-1' is not a LEGACY login method"));
}

TEST_CASE("config: a list of mechanisms this system's GNU SASL lacks entirely is refused by the "
          "component",
          "[config]") {
    std::vector<std::string> missing;
    const auto available = detail::SaslClient::preference();
    for (auto mech : detail::known_sasl_mechanisms) {
        if (std::find(available.begin(), available.end(), mech) == available.end()) {
            missing.emplace_back(mech);
        }
    }
    INFO("Debian 12's GNU SASL 2.2 implements no SCRAM-SHA-512");
    REQUIRE_FALSE(missing.empty());
    Config c = j14();
    c.connection_type = ConnectionType::XMPP;
    c.username = "alice";
    c.sasl.mechanisms = missing;
    REQUIRE_NOTHROW(Config(c).validate_and_complete()); // names pcj knows
    REQUIRE_THROWS_WITH(Component(c), Contains("sasl.mechanisms") && Contains("implements none") &&
                                          Contains(available.front()));
    c.sasl.mechanisms.push_back("PLAIN");
    REQUIRE_NOTHROW(Component(c));
}

TEST_CASE("config: a bad version is refused as a version, a bad host name as a host name",
          "[config]") {
    Config c = j14();
    c.version = "banana";
    REQUIRE_THROWS_WITH(c.validate_and_complete(),
                        Contains("version: 'banana' is not a stream version"));
    c = j14();
    c.hostname = "bad host!";
    REQUIRE_THROWS_WITH(c.validate_and_complete(),
                        Contains("hostname: 'bad host!' is not a valid host name"));
    c.hostname.clear();
    REQUIRE_THROWS_WITH(c.validate_and_complete(), Contains("hostname: required"));
}

TEST_CASE("config: host names, IP addresses, versions and pins that are fine are accepted",
          "[config]") {
    auto value =
        GENERATE(as<std::string>{}, "localhost", "component.example.org", "xn--bcher-kva.example",
                 "b\xc3\xbc"
                 "cher.example",
                 "_sub.example", "127.0.0.1", "::1", "[::1]");
    Config c = j14();
    c.hostname = value;
    if (value.front() != '[') {
        c.ip = value; // the address to connect to takes no brackets
    }
    c.version = "0.9";
    c.tls.pins = {"sha256:" + std::string(64, 'a'), "sha256:" + std::string(62, 'B') + ":0:1"};
    CAPTURE(value);
    REQUIRE_NOTHROW(c.validate_and_complete());
}

TEST_CASE("config: a component may name several servers instead of ip and port", "[config]") {
    Config c = j14();
    c.ip.clear();
    c.port = 0;
    c.servers = {{"127.0.0.1", 5347}, {"node2.example", 5348}};
    REQUIRE_NOTHROW(c.validate_and_complete());
}
