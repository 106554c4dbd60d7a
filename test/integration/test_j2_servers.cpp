// JABBERD20_COMPONENT end to end against the real jabberd2 router (with and without a pemfile)
// and, for routes to and from a client, against full jabberd2 (router + sm + c2s).
#include <catch2/catch.hpp>

#include "configs.hpp"
#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "servers.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

ServerPool servers;

const std::string component_ns = std::string(jabberd2_component_ns);

void shutdown_cleanly(LoopFixture& f, Component& c, Recorder& rec) {
    rec.clear();
    shutdown_and_wait(f, c, 8s);
    CHECK(join(rec.names()) ==
          "PCJ_STREAMEND PCJ_SHUTDOWN_START PCJ_SOCKETDISCONNECT PCJ_SHUTDOWN_FINISH");
}

} // namespace

TEST_CASE("j2 servers: STARTTLS, DIGEST-MD5 and bind reach READY in PCJ's order; a route to "
          "itself comes back through a filter and PCJ_NODERECEIVED",
          "[integration][j2]") {
    TestServer& s = servers.get(ServerKind::jabberd2_router);
    LoopFixture f;
    Component c(j2_config(s, "pcj.localhost"), f.loop());
    Recorder rec(c);
    std::string mechanism;
    auto tap = c.subscribe(ev::NODESENT, [&](const Event& e) {
        if (e.node->local_name() == "auth") {
            mechanism = e.node->attr("mechanism");
        }
    });
    c.ns_prefix("j2", component_ns);
    c.add_filter("echo", "/j2:route/message[body='j2 round trip']");
    connect_and_wait(f, c, 15s);
    INFO("events: " << join(rec.names()) << "\nfailures: " << failures(rec));
    REQUIRE(c.ready());
    CHECK(join(rec.names()) ==
          "PCJ_CONNECT PCJ_CONNECTING PCJ_CONNECTED PCJ_STREAMSTART PCJ_SSLNEGOTIATE "
          "PCJ_SSLSUCCESS PCJ_STREAMSTART PCJ_AUTHNEGOTIATE PCJ_AUTHSUCCESS PCJ_STREAMSTART "
          "PCJ_BINDNEGOTIATE PCJ_BINDSUCCESS PCJ_READY");
    CHECK(mechanism == "DIGEST-MD5");
    CHECK(c.jid() == "pcj.localhost");

    Node message = build("message")
                       .attr("from", c.jid())
                       .attr("to", c.jid())
                       .child(build("body").text("j2 round trip"));
    c.output(wrap_route(message, c.jid(), c.jid()));
    REQUIRE(f.run_until([&] { return rec.has(ev::NODERECEIVED) || ended(c); }, 10s));
    REQUIRE(rec.has("echo"));
    const auto route = unwrap_route(*rec.last(ev::NODERECEIVED)->node);
    REQUIRE(route);
    CHECK(route->from == "pcj.localhost");
    CHECK(route->to == "pcj.localhost");
    CHECK(route->stanza.child("body")->text() == "j2 round trip");

    // A route to a name nobody has bound comes back unchanged, marked error='404'.
    rec.clear();
    message.child("body")->set_text("to nobody");
    c.output(wrap_route(message, c.jid(), "nobody.localhost"));
    REQUIRE(f.run_until([&] { return rec.has(ev::NODERECEIVED) || ended(c); }, 10s));
    const auto bounce = unwrap_route(*rec.last(ev::NODERECEIVED)->node);
    REQUIRE(bounce);
    CHECK(bounce->error == "404");
    CHECK(bounce->to == "nobody.localhost");
    CHECK(bounce->from == "pcj.localhost");
    CHECK(bounce->stanza.child("body")->text() == "to nobody");
    CHECK_FALSE(rec.has("echo"));
    shutdown_cleanly(f, c, rec);
}

TEST_CASE("j2 servers: a router without a pemfile is PCJ_SSLFAIL by default, and connects with "
          "TLS optional",
          "[integration][j2][tls]") {
    TestServer& s = servers.get(ServerKind::jabberd2_router);
    LoopFixture f;
    Config cfg = j2_config(s, "notls.localhost");
    cfg.port = s.port("ROUTER_NOTLS_PORT");
    SECTION("TLS required (the default): no credential is sent") {
        Component c(cfg, f.loop());
        Recorder rec(c);
        connect_and_wait(f, c, 15s);
        REQUIRE(f.run_until([&] { return ended(c); }, 5s));
        REQUIRE(rec.has(ev::SSLFAIL));
        CHECK(rec.last(ev::SSLFAIL)->reason->condition == "tls-not-offered");
        CHECK_FALSE(rec.has(ev::AUTHNEGOTIATE));
        CHECK_FALSE(rec.has(ev::READY));
    }
    SECTION("TLS optional: DIGEST-MD5 in the clear once the configuration allows it") {
        cfg.tls.policy = TlsPolicy::optional;
        cfg.sasl.allow_plaintext_password = true; // DIGEST-MD5 counts as a password mechanism
        Component c(cfg, f.loop());
        Recorder rec(c);
        connect_and_wait(f, c, 15s);
        INFO("events: " << join(rec.names()) << "\nfailures: " << failures(rec));
        REQUIRE(c.ready());
        CHECK(join(rec.names()) ==
              "PCJ_CONNECT PCJ_CONNECTING PCJ_CONNECTED PCJ_STREAMSTART PCJ_AUTHNEGOTIATE "
              "PCJ_AUTHSUCCESS PCJ_STREAMSTART PCJ_BINDNEGOTIATE PCJ_BINDSUCCESS PCJ_READY");
        CHECK(c.jid() == "notls.localhost");
        shutdown_cleanly(f, c, rec);
    }
}

TEST_CASE("j2 servers: a name another component has bound is PCJ_BINDFAIL 409",
          "[integration][j2][bind]") {
    TestServer& s = servers.get(ServerKind::jabberd2_router);
    LoopFixture f;
    Component first(j2_config(s, "taken.localhost"), f.loop());
    connect_and_wait(f, first, 15s);
    REQUIRE(first.ready());

    Component second(j2_config(s, "taken.localhost"), f.loop());
    Recorder rec(second);
    connect_and_wait(f, second, 15s);
    REQUIRE(f.run_until([&] { return ended(second); }, 5s));
    CHECK_FALSE(rec.has(ev::READY));
    REQUIRE(rec.count(ev::BINDFAIL) == 1);
    const Reason& r = *rec.last(ev::BINDFAIL)->reason;
    CHECK(r.condition == "409");
    CHECK(r.code == 409);
    CHECK(second.jid().empty());
    CHECK(first.ready()); // the first keeps its name

    Recorder first_rec(first);
    shutdown_cleanly(f, first, first_rec);
}

TEST_CASE("j2 servers: a user without the bind ACL gets PCJ_BINDFAIL 403 for another name, and "
          "may bind its own",
          "[integration][j2][bind]") {
    TestServer& s = servers.get(ServerKind::jabberd2_router);
    LoopFixture f;
    Config cfg = j2_config(s, "someone-else.localhost");
    cfg.username = s.get("ROUTER_USER_NOBIND");
    cfg.password = s.get("ROUTER_SECRET_NOBIND");
    SECTION("another name") {
        Component c(cfg, f.loop());
        Recorder rec(c);
        connect_and_wait(f, c, 15s);
        REQUIRE(f.run_until([&] { return ended(c); }, 5s));
        REQUIRE(rec.count(ev::BINDFAIL) == 1);
        const Reason& r = *rec.last(ev::BINDFAIL)->reason;
        CHECK(r.condition == "403");
        CHECK(r.code == 403);
        CHECK(r.text.find("no bind ACL") != std::string::npos);
        CHECK_FALSE(rec.has(ev::READY));
    }
    SECTION("its own user name") {
        cfg.bind_domain = cfg.username;
        Component c(cfg, f.loop());
        Recorder rec(c);
        connect_and_wait(f, c, 15s);
        INFO("failures: " << failures(rec));
        REQUIRE(c.ready());
        CHECK(c.jid() == cfg.username);
        shutdown_cleanly(f, c, rec);
    }
}

TEST_CASE("j2 servers: a wrong secret is PCJ_AUTHFAIL not-authorized", "[integration][j2][auth]") {
    TestServer& s = servers.get(ServerKind::jabberd2_router);
    LoopFixture f;
    Config cfg = j2_config(s, "pcj.localhost");
    cfg.password = "not-the-secret";
    Component c(cfg, f.loop());
    Recorder rec(c);
    connect_and_wait(f, c, 15s);
    REQUIRE(f.run_until([&] { return ended(c); }, 5s));
    CHECK_FALSE(rec.has(ev::READY));
    CHECK_FALSE(rec.has(ev::AUTHSUCCESS));
    REQUIRE(rec.count(ev::AUTHFAIL) == 1);
    CHECK(rec.last(ev::AUTHFAIL)->reason->condition == "not-authorized");
    CHECK_FALSE(rec.has(ev::BINDNEGOTIATE));
}

TEST_CASE("j2 servers: end to end with jabberd2 — a client's message reaches the component as a "
          "route, and the component's reply reaches the client",
          "[integration][j2][e2e]") {
    TestServer& s = servers.get(ServerKind::jabberd2);
    LoopFixture f;
    const std::string service = "echo.localhost";
    Component component(j2_config(s, service), f.loop());
    Recorder crec(component);
    component.ns_prefix("j2", component_ns);
    component.add_filter("inbound", "/j2:route/message[body='ping']");
    // Echo every message back to its sender, from the service's domain.
    auto echo = component.subscribe("inbound", [&](const Event& e) {
        const auto in = unwrap_route(*e.node);
        Node reply = build("message")
                         .attr("from", service)
                         .attr("to", in->stanza.attr("from"))
                         .attr("type", "chat")
                         .child(build("body").text("pong"));
        component.output(wrap_route(reply, service, in->from));
    });
    connect_and_wait(f, component, 15s);
    INFO("component failures: " << failures(crec));
    REQUIRE(component.ready());

    f.run_for(50ms); // jabberd2's c2s STARTTLS race (README, Quirks)
    Config cc = c2s_config(s, ConnectionType::XMPP, "");
    cc.negotiation_timeout = Config{}.negotiation_timeout; // this login keeps the default
    Component client(cc, f.loop());
    Recorder rec(client);
    client.add_filter("pong", "/message[body='pong']");
    connect_and_wait(f, client, 15s);
    INFO("client failures: " << failures(rec));
    REQUIRE(client.ready());

    client.output(build("message")
                      .attr("to", service)
                      .attr("type", "chat")
                      .child(build("body").text("ping")));
    REQUIRE(f.run_until([&] { return rec.has("pong") || ended(client); }, 10s));
    CHECK(crec.has("inbound"));
    REQUIRE(rec.has("pong"));
    CHECK(rec.last("pong")->node->attr("from") == service);

    // return_to_sender across the router: the session manager answers a disco#info query
    // in a route of its own, matched on the id of the iq inside.
    Node iq = build("iq")
                  .attr("type", "get")
                  .attr("from", service)
                  .attr("to", s.get("DOMAIN"))
                  .child(build("query", "http://jabber.org/protocol/disco#info"));
    const std::string id =
        component.return_to_sender(wrap_route(iq, service, s.get("DOMAIN")), "disco", 5s);
    REQUIRE(f.run_until([&] { return crec.has("disco"); }, 8s));
    const Seen* disco = crec.last("disco");
    REQUIRE(disco->node); // not a timeout
    const Node* answer = route_payload(*disco->node);
    REQUIRE(answer);
    CHECK(answer->attr("id") == id);
    CHECK(answer->attr("type") == "result");
    CHECK(crec.has(ev::RTS_FINISH));

    Recorder closing(client);
    shutdown_cleanly(f, client, closing);
    shutdown_cleanly(f, component, crec);
}
