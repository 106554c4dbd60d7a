// XEP-0199 against a scripted peer: the responder, one-off pings and the keepalive.
#include <catch2/catch.hpp>

#include "configs.hpp"
#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "scripted_peer.hpp"
#include "scripts.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

TEST_CASE("ping: a ping addressed to the component is answered with an empty result and "
          "consumed; one-off pings report their round trip",
          "[protocol][ping]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .send("<iq type='get' id='p1' from='localhost' to='component.localhost'>"
              "<ping xmlns='urn:xmpp:ping'/></iq>")
        .expect("id=\"p1\"")
        .expect("urn:xmpp:ping\"/></iq>")
        .send("<iq type='result' id='$ID' from='localhost'/>")
        .expect("urn:xmpp:ping\"/></iq>")
        .send("<iq type='error' id='$ID' from='old.localhost'><error type='cancel'>"
              "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
        .expect("</stream:stream>")
        .close();
    Component c(j14_config(peer.port()), f.loop());
    auto ping = std::make_shared<Ping>();
    c.attach(ping);
    Recorder rec(c);
    connect_ready(f, c);
    REQUIRE(f.run_until([&] { return contains(peer.all_received(), "id=\"p1\""); }));
    CHECK(contains(peer.all_received(), "<iq type=\"result\" id=\"p1\" to=\"localhost\" "
                                        "from=\"component.localhost\"/>"));
    std::vector<PingResult> results;
    ping->ping("localhost", [&](const PingResult& r) { results.push_back(r); });
    REQUIRE(f.run_until([&] { return results.size() == 1; }));
    ping->ping("old.localhost", [&](const PingResult& r) { results.push_back(r); });
    REQUIRE(f.run_until([&] { return results.size() == 2; }));
    CHECK(results[0].answered);
    CHECK(results[0].error.empty());
    CHECK(results[0].rtt.count() > 0);
    CHECK_FALSE(results[0].failure);
    CHECK(results[1].answered); // an error proves the path as well
    CHECK(results[1].error == "service-unavailable");
    CHECK_FALSE(rec.has(ev::NODERECEIVED));
    shutdown_and_wait(f, c);
    CHECK(ping->keepalives_sent() == 0); // no keepalive was asked for
}

TEST_CASE("ping: the keepalive pings after an idle interval and, with no reply within the "
          "timeout, publishes PING_TIMEOUT and drops the connection",
          "[protocol][ping][keepalive]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).expect("urn:xmpp:ping").wait_close(); // a peer that stopped answering
    Component c(j14_config(peer.port()), f.loop());
    Ping::Options opt;
    opt.interval = 200ms;
    opt.timeout = 300ms;
    auto ping = std::make_shared<Ping>(opt);
    c.attach(ping);
    Recorder rec(c);
    std::chrono::steady_clock::time_point ready_at, ping_at, fail_at;
    auto s1 =
        c.subscribe(ev::READY, [&](const Event&) { ready_at = std::chrono::steady_clock::now(); });
    auto s2 = c.subscribe(ev::NODESENT, [&](const Event& e) {
        if (e.node->child("ping", std::string(ping_ns)) != nullptr) {
            ping_at = std::chrono::steady_clock::now();
        }
    });
    auto s3 = c.subscribe(ev::SOCKETFAIL,
                          [&](const Event&) { fail_at = std::chrono::steady_clock::now(); });
    connect_ready(f, c);
    REQUIRE(f.run_until([&] { return ended(c); }, 5s));
    CHECK(ping->keepalives_sent() == 1);
    CHECK(ping->keepalives_answered() == 0);
    // The keepalive pings its own domain, which a server routes back.
    CHECK(contains(peer.all_received(), "<iq type=\"get\" to=\"component.localhost\" "
                                        "from=\"component.localhost\""));
    std::vector<std::string> tail;
    for (const auto& s : rec.seen) {
        if (s.name == ext::PING_TIMEOUT || s.name == ev::SOCKETFAIL ||
            s.name == ev::SOCKETDISCONNECT) {
            tail.push_back(s.name);
        }
    }
    CHECK(tail ==
          std::vector<std::string>{"ping_timeout", "PCJ_SOCKETFAIL", "PCJ_SOCKETDISCONNECT"});
    const Seen* timeout = rec.last(ext::PING_TIMEOUT);
    REQUIRE(timeout->reason);
    CHECK(timeout->reason->op == "keepalive");
    CHECK(timeout->reason->condition == "timeout");
    const Seen* fail = rec.last(ev::SOCKETFAIL);
    REQUIRE(fail->reason);
    CHECK(fail->reason->op == "keepalive");
    CHECK(fail->reason->condition == "timeout");
    const auto idle = ping_at - ready_at;
    const auto waited = fail_at - ping_at;
    CHECK(idle >= 195ms);
    CHECK(idle < 1500ms);
    CHECK(waited >= 295ms);
    CHECK(waited < 1500ms);
}

TEST_CASE("ping: an error reply satisfies the keepalive, which then waits for the next idle "
          "interval",
          "[protocol][ping][keepalive]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .expect("urn:xmpp:ping")
        .send("<iq type='error' id='$ID' from='component.localhost'><error type='cancel'>"
              "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
        .expect("</iq>")
        .expect("urn:xmpp:ping")
        .send("<iq type='result' id='$ID'/>")
        .expect("</stream:stream>")
        .close();
    Component c(j14_config(peer.port()), f.loop());
    Ping::Options opt;
    opt.interval = 150ms;
    opt.timeout = 400ms;
    auto ping = std::make_shared<Ping>(opt);
    c.attach(ping);
    Recorder rec(c);
    connect_ready(f, c);
    REQUIRE(f.run_until([&] { return ping->keepalives_answered() == 2 || ended(c); }, 5s));
    CHECK(c.ready());
    CHECK(ping->keepalives_sent() == 2);
    f.run_for(100ms); // less than the interval: no third ping yet
    CHECK(ping->keepalives_sent() == 2);
    CHECK_FALSE(rec.has(ext::PING_TIMEOUT));
    CHECK_FALSE(rec.has(ev::SOCKETFAIL));
    CHECK_FALSE(rec.has(ev::NODERECEIVED)); // the replies went to the keepalive
    shutdown_and_wait(f, c);
}

TEST_CASE("ping: traffic from the peer postpones the keepalive", "[protocol][ping][keepalive]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer);
    for (int i = 0; i < 6; ++i) {
        peer.pause(80ms).send("<message id='t" + std::to_string(i) + "'/>");
    }
    peer.expect("urn:xmpp:ping")
        .send("<iq type='result' id='$ID'/>")
        .expect("</stream:stream>")
        .close();
    Component c(j14_config(peer.port()), f.loop());
    Ping::Options opt;
    opt.interval = 250ms;
    opt.timeout = 1s;
    auto ping = std::make_shared<Ping>(opt);
    c.attach(ping);
    Recorder rec(c);
    std::size_t messages_before_ping = 0;
    auto s = c.subscribe(ev::NODESENT, [&](const Event& e) {
        if (e.node->child("ping", std::string(ping_ns)) != nullptr) {
            messages_before_ping = rec.count(ev::NODERECEIVED);
        }
    });
    connect_ready(f, c);
    REQUIRE(f.run_until([&] { return ping->keepalives_answered() == 1 || ended(c); }, 5s));
    // Messages came every 80 ms: the first ping waited for the quiet after the last one.
    CHECK(messages_before_ping == 6);
    shutdown_and_wait(f, c);
}

TEST_CASE("ping: a detached keepalive sends nothing more, and an extension may outlive its "
          "component",
          "[protocol][ping][keepalive]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).wait_close();
    Ping::Options opt;
    opt.interval = 100ms;
    opt.timeout = 1s;
    auto ping = std::make_shared<Ping>(opt);
    auto kept = std::make_shared<Ping>(opt); // survives the component below
    {
        Component c(j14_config(peer.port()), f.loop());
        c.attach(ping);
        connect_ready(f, c);
        CHECK(c.detach("ping"));
        c.attach(kept);
        f.run_for(50ms);
        c.detach("ping");
        f.run_for(300ms);
        CHECK(ping->keepalives_sent() == 0);
        CHECK(kept->keepalives_sent() == 0);
        c.attach(kept);
        REQUIRE(f.run_until([&] { return kept->keepalives_sent() == 1; }));
    } // destroyed with a keepalive outstanding: detached first, its timer closed
    CHECK_FALSE(kept->is_attached());
    f.run_for(200ms);
    CHECK(kept->keepalives_sent() == 1);
    CHECK_THROWS_AS(kept->ping("localhost", [](const PingResult&) {}), StateError);
}
