// Disco and Ping against real servers: the servers' own disco#info, a component's responder
// reached through Prosody and jabberd2's session manager, and the keepalive finding a frozen
// server (SIGSTOP) and a live path through the server for components.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>

#include "configs.hpp"
#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "servers.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

ServerPool servers;

bool has(const std::vector<std::string>& list, std::string_view value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

} // namespace

TEST_CASE("extensions servers: a client's disco#info of its server lists the server's identity "
          "and real features, XEP-0199 among them",
          "[integration][extensions][disco]") {
    const ServerKind kind = GENERATE(ServerKind::prosody, ServerKind::ejabberd);
    INFO("server: " << to_string(kind));
    TestServer& s = servers.get(kind);
    LoopFixture f;
    Component c(c2s_config(s, ConnectionType::XMPP, "pcjext"), f.loop());
    auto disco = std::make_shared<Disco>();
    c.attach(disco);
    Recorder rec(c);
    connect_ready(f, c, rec, 15s);
    disco->query_info(s.get("DOMAIN"), "", 5s);
    disco->query_items(s.get("DOMAIN"), "", 5s);
    REQUIRE(f.run_until([&] { return rec.has(ext::QUERY_INFO) && rec.has(ext::QUERY_ITEMS); }, 8s));
    const Seen* info = rec.last(ext::QUERY_INFO);
    INFO("failures: " << failures(rec));
    REQUIRE_FALSE(info->reason);
    const auto* d = std::get_if<DiscoInfo>(&info->payload);
    REQUIRE(d);
    CHECK(d->jid == s.get("DOMAIN"));
    CHECK(has(d->features, "urn:xmpp:ping"));
    CHECK(has(d->features, disco_info_ns));
    const bool server_identity =
        std::any_of(d->identities.begin(), d->identities.end(), [](const DiscoIdentity& i) {
            return i.category == "server" && i.type == "im";
        });
    CHECK(server_identity);
    const Seen* items = rec.last(ext::QUERY_ITEMS);
    CHECK_FALSE(items->reason);
    CHECK(std::holds_alternative<DiscoItems>(items->payload));

    // A JID that does not exist on the server: the same event, with the server's condition.
    rec.clear();
    disco->query_info("nobody-here@" + s.get("DOMAIN") + "/gone", "", 5s);
    REQUIRE(f.run_until([&] { return rec.has(ext::QUERY_INFO); }, 8s));
    const Seen* err = rec.last(ext::QUERY_INFO);
    REQUIRE(err->reason);
    CHECK_FALSE(err->reason->condition.empty());
    CHECK(err->reason->condition != "timeout");
    CHECK(std::holds_alternative<std::monostate>(err->payload));
    shutdown_and_wait(f, c, 8s);
}

TEST_CASE("extensions servers: a client querying a component through Prosody gets the "
          "component's identity and features, and its pings are answered; the component's "
          "keepalive goes round through the server",
          "[integration][extensions][disco][ping]") {
    TestServer& s = servers.get(ServerKind::prosody);
    LoopFixture f;
    Component component(j14_config(s), f.loop());
    Disco::Options dopt;
    dopt.identities = {DiscoIdentity{"gateway", "pcj", "pcj test", ""}};
    component.attach(std::make_shared<Disco>(dopt));
    Ping::Options popt;
    popt.interval = 200ms;
    popt.timeout = 2s;
    auto component_ping = std::make_shared<Ping>(popt);
    component.attach(component_ping);
    Recorder crec(component);
    connect_ready(f, component, crec, 15s);

    Component client(c2s_config(s, ConnectionType::XMPP, "pcjext"), f.loop());
    auto disco = std::make_shared<Disco>();
    auto ping = std::make_shared<Ping>();
    client.attach(disco);
    client.attach(ping);
    Recorder rec(client);
    connect_ready(f, client, rec, 15s);

    const std::string domain = s.get("COMPONENT_DOMAIN");
    disco->query_info(domain, "", 5s);
    std::optional<PingResult> pong;
    ping->ping(
        domain, [&](const PingResult& r) { pong = r; }, 5s);
    REQUIRE(f.run_until([&] { return rec.has(ext::QUERY_INFO) && pong; }, 8s));
    const Seen* info = rec.last(ext::QUERY_INFO);
    INFO("client failures: " << failures(rec) << "\ncomponent failures: " << failures(crec));
    REQUIRE_FALSE(info->reason);
    const auto* d = std::get_if<DiscoInfo>(&info->payload);
    REQUIRE(d);
    REQUIRE(d->identities.size() == 1);
    CHECK(d->identities[0].category == "gateway");
    CHECK(d->identities[0].type == "pcj");
    CHECK(d->identities[0].name == "pcj test");
    CHECK(has(d->features, disco_info_ns));
    CHECK(has(d->features, disco_items_ns));
    CHECK(has(d->features, "urn:xmpp:ping"));
    CHECK(pong->answered);
    CHECK(pong->error.empty());
    // Answered by the extensions: the application saw none of it.
    CHECK_FALSE(crec.has(ev::NODERECEIVED));

    // The component's own keepalive: its ping to itself comes back through Prosody.
    REQUIRE(f.run_until([&] { return component_ping->keepalives_answered() >= 1; }, 5s));
    CHECK_FALSE(crec.has(ext::PING_TIMEOUT));
    shutdown_and_wait(f, client, 8s);
    shutdown_and_wait(f, component, 8s);
}

TEST_CASE("extensions servers: a jabberd2 component answers the session manager's disco#info "
          "when it binds, and its keepalive goes round through the router",
          "[integration][extensions][disco][j2]") {
    TestServer& s = servers.get(ServerKind::jabberd2);
    LoopFixture f;
    const std::string service = "disco.localhost";
    Component c(j2_config(s, service), f.loop());
    c.attach(std::make_shared<Disco>());
    Ping::Options popt;
    popt.interval = 200ms;
    popt.timeout = 2s;
    auto ping = std::make_shared<Ping>(popt);
    c.attach(ping);
    Recorder rec(c);
    int queries = 0, answers = 0;
    std::string asker;
    auto in = c.subscribe(xs::IQ_GET, [&](const Event& e) {
        const auto route = unwrap_route(*e.node);
        if (route && route->stanza.child("query", disco_info_ns) != nullptr) {
            ++queries;
            asker = route->stanza.attr("from");
        }
    });
    auto out = c.subscribe(ev::NODESENT, [&](const Event& e) {
        const auto route = unwrap_route(*e.node);
        if (route && route->stanza.attr("type") == "result" &&
            route->stanza.child("query", disco_info_ns) != nullptr) {
            ++answers;
        }
    });
    connect_ready(f, c, rec, 15s);
    REQUIRE(f.run_until([&] { return answers >= 1 || ended(c); }, 8s));
    f.run_for(300ms); // the sm asks more than once
    CHECK(queries >= 1);
    CHECK(answers == queries);
    CHECK(asker == "sm"); // jabberd2's session manager signs its queries "sm"
    // Consumed by the responder (the router's <presence/> announcements do arrive).
    const bool leaked = std::any_of(rec.seen.begin(), rec.seen.end(), [](const Seen& seen) {
        if (seen.name != ev::NODERECEIVED) {
            return false;
        }
        const auto route = unwrap_route(*seen.node);
        return route && route->stanza.child("query", disco_info_ns) != nullptr;
    });
    CHECK_FALSE(leaked);

    REQUIRE(f.run_until([&] { return ping->keepalives_answered() >= 1 || ended(c); }, 5s));
    CHECK(c.ready());
    CHECK_FALSE(rec.has(ext::PING_TIMEOUT));
    shutdown_and_wait(f, c, 8s);
}

TEST_CASE("extensions servers: the keepalive finds a server that stopped answering (SIGSTOP) "
          "within interval + timeout, and the server survives it",
          "[integration][extensions][ping][keepalive]") {
    // A server of its own: it is frozen, which no other test should meet.
    TestServer s(ServerKind::prosody);
    LoopFixture f;
    Component c(c2s_config(s, ConnectionType::XMPP, "pcjext"), f.loop());
    Ping::Options opt;
    opt.interval = 300ms;
    opt.timeout = 700ms;
    auto ping = std::make_shared<Ping>(opt);
    c.attach(ping);
    Recorder rec(c);
    connect_ready(f, c, rec, 15s);
    // Alive: Prosody answers the keepalive, and the connection stays.
    REQUIRE(f.run_until([&] { return ping->keepalives_answered() >= 1 || ended(c); }, 5s));
    REQUIRE(c.ready());

    REQUIRE(s.pause() >= 1);
    const auto frozen_at = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point failed_at;
    auto on_fail = c.subscribe(ev::SOCKETFAIL,
                               [&](const Event&) { failed_at = std::chrono::steady_clock::now(); });
    const bool detected = f.run_until([&] { return ended(c); }, 5s);
    s.resume();
    REQUIRE(detected);
    const auto took = failed_at - frozen_at;
    CHECK(took <= opt.interval + opt.timeout + 1500ms);
    CHECK(took >= opt.timeout);
    REQUIRE(rec.has(ext::PING_TIMEOUT));
    CHECK(rec.last(ext::PING_TIMEOUT)->reason->condition == "timeout");
    const Seen* fail = rec.last(ev::SOCKETFAIL);
    REQUIRE(fail);
    CHECK(fail->reason->op == "keepalive");
    CHECK(rec.has(ev::SOCKETDISCONNECT));
    // The thawed server is whole: a new connection logs in again.
    CHECK(s.running());
    rec.clear();
    connect_ready(f, c, rec, 15s);
    shutdown_and_wait(f, c, 8s);
}
