// Config validation: a bad configuration is rejected at construction, with a clear message.
#include <catch2/catch.hpp>

#include "pcj/pcj.hpp"

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

TEST_CASE("config: a component may name several servers instead of ip and port", "[config]") {
    Config c = j14();
    c.ip.clear();
    c.port = 0;
    c.servers = {{"127.0.0.1", 5347}, {"node2.example", 5348}};
    REQUIRE_NOTHROW(c.validate_and_complete());
}
