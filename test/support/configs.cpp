// Configs and login helpers the tests share: components for a scripted peer on 127.0.0.1 and
// for the real servers TestServer starts, and the loop steps around a login.
#include "configs.hpp"

#include <catch2/catch.hpp>

namespace pcj::test {

using namespace std::chrono_literals;

namespace {

Config peer_config(ConnectionType type, std::uint16_t port) {
    Config c;
    c.connection_type = type;
    c.ip = "127.0.0.1";
    c.port = port;
    c.hostname = "localhost";
    c.username = "user";
    c.password = "pass";
    c.tls.policy = TlsPolicy::disabled;
    c.shutdown_timeout = 1s;
    return c;
}

} // namespace

Config xmpp_config(std::uint16_t port) {
    Config c = peer_config(ConnectionType::XMPP, port);
    c.resource = "res";
    c.sasl.allow_plaintext_password = true;
    return c;
}

Config legacy_config(std::uint16_t port) {
    Config c = peer_config(ConnectionType::LEGACY, port);
    c.resource = "res";
    return c;
}

Config j14_config(std::uint16_t port, std::chrono::milliseconds shutdown_timeout) {
    Config c;
    c.connection_type = ConnectionType::JABBERD14_COMPONENT;
    c.ip = "127.0.0.1";
    c.port = port;
    c.hostname = "component.localhost";
    c.password = "test";
    c.shutdown_timeout = shutdown_timeout;
    return c;
}

Config j2_config(std::uint16_t port) {
    Config c = peer_config(ConnectionType::JABBERD20_COMPONENT, port);
    c.sasl.allow_plaintext_password = true;
    return c;
}

TestServer& ServerPool::get(ServerKind kind) {
    auto& s = servers_[kind];
    if (!s) {
        s = std::make_unique<TestServer>(kind); // throws, failing the test, when it cannot start
    }
    if (!s->running()) {
        s->restart();
    }
    return *s;
}

Config c2s_config(const TestServer& s, ConnectionType type, const std::string& resource) {
    Config c;
    c.connection_type = type;
    c.ip = s.get("HOST");
    c.port = s.port("C2S_PORT");
    c.hostname = s.get("DOMAIN");
    c.username = s.get("USER");
    c.password = s.get("PASSWORD");
    c.resource = resource;
    c.tls.ca_file = s.get("CA_FILE");
    c.shutdown_timeout = 3s;
    c.negotiation_timeout = 15s;
    return c;
}

Config j14_config(const TestServer& s) {
    Config c;
    c.connection_type = ConnectionType::JABBERD14_COMPONENT;
    c.ip = s.get("HOST");
    c.port = s.port("COMPONENT_PORT");
    c.hostname = s.get("COMPONENT_DOMAIN");
    c.password = s.get("COMPONENT_SECRET");
    c.shutdown_timeout = 3s;
    return c;
}

Config j2_config(const TestServer& s, const std::string& bind_domain) {
    Config c;
    c.connection_type = ConnectionType::JABBERD20_COMPONENT;
    c.ip = s.get("HOST");
    c.port = s.port("ROUTER_PORT");
    c.hostname = s.get("DOMAIN");
    c.username = s.get("ROUTER_USER");
    c.password = s.get("ROUTER_SECRET");
    c.bind_domain = bind_domain;
    c.tls.ca_file = s.get("CA_FILE");
    c.shutdown_timeout = 3s;
    c.negotiation_timeout = 10s;
    return c;
}

void settle(LoopFixture& f, ServerKind kind) {
    if (kind == ServerKind::jabberd2) {
        f.run_for(50ms);
    }
}

bool ended(const Component& c) {
    return c.state() == State::disconnected;
}

std::string failures(const Recorder& rec) {
    std::string out;
    for (const auto& seen : rec.seen) {
        if (seen.reason) {
            out += seen.name + ": " + seen.reason->to_string() + "; ";
        }
    }
    return out;
}

void connect_and_wait(LoopFixture& f, Component& c, std::chrono::milliseconds timeout) {
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }, timeout));
}

void connect_ready(LoopFixture& f, Component& c, std::chrono::milliseconds timeout) {
    connect_and_wait(f, c, timeout);
    REQUIRE(c.ready());
}

void connect_ready(LoopFixture& f, Component& c, const Recorder& rec,
                   std::chrono::milliseconds timeout) {
    connect_and_wait(f, c, timeout);
    INFO("events: " << join(rec.names()) << "\nfailures: " << failures(rec));
    REQUIRE(c.ready());
}

void shutdown_and_wait(LoopFixture& f, Component& c, std::chrono::milliseconds timeout) {
    c.shutdown();
    REQUIRE(f.run_until([&] { return ended(c); }, timeout));
}

} // namespace pcj::test
