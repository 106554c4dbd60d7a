// The connection and stream events and the socket records (doc/origins.md) against a scripted
// peer: exact sequences, payloads, and the branches no real server produces on demand.
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "configs.hpp"
#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "scripted_peer.hpp"
#include "scripts.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

const std::set<std::string_view> packets = {sock::PACKET_READ, sock::PACKET_SENT};
const std::set<std::string_view> traffic = {net::READ, net::WRITE, net::READY_TO_WRITE};
const std::set<std::string_view> stanzas = {xs::FEED,      xs::NODE,   xs::IQ,      xs::IQ_SET,
                                            xs::IQ_RESULT, xs::IQ_GET, xs::IQ_ERROR};

template <typename T> std::vector<const T*> payloads(const Recorder& rec, std::string_view name) {
    std::vector<const T*> out;
    for (const auto& s : rec.seen) {
        if (s.name == name) {
            out.push_back(std::get_if<T>(&s.payload));
        }
    }
    return out;
}

} // namespace

TEST_CASE("events: an XMPP login in the clear fires the socket, connection and stream events in "
          "order",
          "[protocol][events]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    sasl_plain(peer, client_header, plain_and_register, bind_features)
        .expect("<resource>res</resource>")
        .send(bind_result("user@localhost/res"))
        .expect("</stream:stream>")
        .send("</stream:stream>")
        .close();
    Component c(xmpp_config(peer.port()), f.loop());
    Recorder rec(c);
    connect_ready(f, c);
    const std::uint64_t id = c.connection_id();
    shutdown_and_wait(f, c);

    CHECK(sequence(rec, sock::all, packets) ==
          "EVENT_CONNECTING EVENT_CONNECTED EVENT_CHANNEL_CLOSED EVENT_DELETED");
    CHECK(sequence(rec, net::all, traffic) == "tcp_established ready_to_read tcp_disconnect");
    CHECK(sequence(rec, xs::all, stanzas) ==
          "start_stream open sasl_support user_registration sasl_success start_stream open "
          "bind_support bound_jid closed");

    // Every record carries the common keys: its code, its source and the connection's id.
    for (const auto& s : rec.seen) {
        if (const auto* r = std::get_if<SocketRecord>(&s.payload)) {
            CHECK(to_string(r->code) == s.name);
            CHECK(r->source == Source::socket);
            CHECK(r->id == id);
        }
    }
    const auto* connecting = rec.last(sock::CONNECTING)->payload.index() != 0
                                 ? &std::get<SocketRecord>(rec.last(sock::CONNECTING)->payload)
                                 : nullptr;
    REQUIRE(connecting);
    CHECK(connecting->address == "127.0.0.1");
    CHECK(connecting->family == AF_INET);
    CHECK(connecting->port == peer.port());
    const auto* endpoint = std::get_if<Endpoint>(&rec.last(net::TCP_ESTABLISHED)->payload);
    REQUIRE(endpoint);
    CHECK(endpoint->address == "127.0.0.1");
    CHECK(endpoint->port == peer.port());
    CHECK_FALSE(rec.last(net::TCP_DISCONNECT)->reason); // a clean close carries no reason

    const auto* mechanisms = std::get_if<Mechanisms>(&rec.last(xs::SASL_SUPPORT)->payload);
    REQUIRE(mechanisms);
    CHECK(mechanisms->names == std::vector<std::string>{"PLAIN"});
    const auto* step = std::get_if<pcj::SaslStep>(&rec.last(xs::SASL_SUCCESS)->payload);
    REQUIRE(step);
    CHECK(step->mechanism == "PLAIN");
    const auto* jid = std::get_if<Jid>(&rec.last(xs::BOUND_JID)->payload);
    REQUIRE(jid);
    CHECK(jid->full == "user@localhost/res");
    CHECK(jid->local == "user");
    CHECK(jid->domain == "localhost");
    CHECK(jid->resource == "res");
    REQUIRE(rec.last(xs::OPEN)->node);
    CHECK(rec.last(xs::OPEN)->node->attr("id") == "s1");
    REQUIRE(rec.last(xs::START_STREAM)->node);
    CHECK(rec.last(xs::START_STREAM)->node->attr("to") == "localhost");
    CHECK(rec.has(xs::IQ_RESULT)); // the bind result
}

TEST_CASE("events: byte counts add up — packets, plaintext reads and writes, feeds",
          "[protocol][events][traffic]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .send("<message from='a@localhost' to='component.localhost'><body>hi</body></message>")
        .expect("</stream:stream>")
        .send("</stream:stream>")
        .close();
    Component c(j14_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.has(ev::NODERECEIVED) || ended(c); }));
    c.output(build("message").attr("to", "a@localhost").child(build("body").text("out")));
    f.run_for(50ms);
    shutdown_and_wait(f, c);

    auto check_totals = [](const auto& steps, std::uint64_t expected_sum) {
        std::uint64_t sum = 0;
        for (const auto* step : steps) {
            REQUIRE(step);
            sum += step->bytes;
            CHECK(step->total == sum); // running and monotonic
        }
        CHECK(sum == expected_sum);
    };
    const std::string sent_by_peer =
        component_header + "<handshake/>" +
        "<message from='a@localhost' to='component.localhost'><body>hi</body></message>" +
        "</stream:stream>";
    const std::size_t received_by_peer = peer.all_received().size();
    check_totals(payloads<SocketRecord>(rec, sock::PACKET_READ), sent_by_peer.size());
    check_totals(payloads<Traffic>(rec, net::READ), sent_by_peer.size());
    check_totals(payloads<SocketRecord>(rec, sock::PACKET_SENT), received_by_peer);
    check_totals(payloads<Traffic>(rec, net::WRITE), received_by_peer);
    for (const auto* sent : payloads<SocketRecord>(rec, sock::PACKET_SENT)) {
        CHECK(sent->total_to_send >= sent->total);
    }
    std::string fed;
    for (const auto* text : payloads<Text>(rec, xs::FEED)) {
        REQUIRE(text);
        fed += text->text;
    }
    CHECK(fed == sent_by_peer);
    // ready_to_write: each time the socket took everything, with what was flushed since the
    // previous one; together they account for every byte written.
    const auto drains = payloads<Traffic>(rec, net::READY_TO_WRITE);
    REQUIRE_FALSE(drains.empty());
    check_totals(drains, received_by_peer);
}

TEST_CASE("events: the stanza events classify every element that arrives",
          "[protocol][events][stanzas]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .send("<message id='m'/><presence id='p'/><iq type='get' id='g'/><iq type='set' id='s'/>"
              "<iq type='result' id='r'/><iq type='error' id='e'/>")
        .expect("</stream:stream>")
        .send("</stream:stream>")
        .close();
    Component c(j14_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.count(ev::NODERECEIVED) == 6 || ended(c); }));
    shutdown_and_wait(f, c);
    CHECK(sequence(rec, xs::all, {xs::FEED}) ==
          "start_stream open node success_handshake node message node presence node iq iq_get "
          "node iq iq_set node iq iq_result node iq iq_error closed");
    const Seen* handshake = rec.last(xs::SUCCESS_HANDSHAKE);
    REQUIRE(handshake->node);
    CHECK(handshake->node->name() == "handshake");
    CHECK(rec.last(xs::IQ_ERROR)->node->attr("id") == "e");
    CHECK(rec.last(xs::MESSAGE)->node->attr("id") == "m");
}

TEST_CASE("events: a stream error fires error with its condition and text, then closed",
          "[protocol][events][stream]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .send("<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
              "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new connection"
              "</text></stream:error></stream:stream>")
        .wait_close();
    Component c(j14_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    const Seen* error = rec.last(xs::ERROR);
    REQUIRE(error);
    REQUIRE(error->node);
    CHECK(error->node->local_name() == "error");
    REQUIRE(error->reason);
    CHECK(error->reason->condition == "conflict");
    CHECK(error->reason->text == "Replaced by new connection");
    CHECK(sequence(rec, xs::all, {xs::FEED, xs::NODE}) ==
          "start_stream open success_handshake error closed");
}

TEST_CASE("events: input the parser rejects fires unhandled_xml with the input and the reason",
          "[protocol][events][stream]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).pause(20ms).send("<message><body>x</bod></message>").wait_close();
    Component c(j14_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    const Seen* bad = rec.last(xs::UNHANDLED_XML);
    REQUIRE(bad);
    const auto* text = std::get_if<Text>(&bad->payload);
    REQUIRE(text);
    CHECK(text->text.find("</bod>") != std::string::npos);
    REQUIRE(bad->reason);
    CHECK(bad->reason->op == "xml");
    CHECK(bad->reason->condition == "not-well-formed");
    // The connection was lost to it: tcp_disconnect says why.
    const Seen* gone = rec.last(net::TCP_DISCONNECT);
    REQUIRE(gone);
    REQUIRE(gone->reason);
    CHECK(gone->reason->condition == "not-well-formed");
}

TEST_CASE("events: tcp_downgraded fires only where the configuration allowed falling back",
          "[protocol][events][tls]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    Config cfg;
    bool downgrade = false;
    SECTION("XMPP, TLS optional, STARTTLS not offered: downgraded") {
        peer.expect("<stream:stream")
            .send(client_header + plain_and_register)
            .expect("</auth>")
            .wait_close();
        cfg = xmpp_config(peer.port());
        cfg.tls.policy = TlsPolicy::optional;
        downgrade = true;
    }
    SECTION("XMPP, TLS required, STARTTLS not offered: no downgrade, SSLFAIL") {
        peer.expect("<stream:stream").send(client_header + plain_and_register).wait_close();
        cfg = xmpp_config(peer.port());
        cfg.tls.policy = TlsPolicy::required;
    }
    SECTION("XMPP, TLS disabled: nothing to fall back from") {
        peer.expect("<stream:stream")
            .send(client_header + plain_and_register)
            .expect("</auth>")
            .wait_close();
        cfg = xmpp_config(peer.port());
    }
    SECTION("LEGACY, TLS optional, features without STARTTLS: downgraded") {
        peer.expect("<stream:stream")
            .send(client_header + plain_and_register)
            .expect("jabber:iq:auth")
            .wait_close();
        cfg = xmpp_config(peer.port());
        cfg.connection_type = ConnectionType::LEGACY;
        cfg.tls.policy = TlsPolicy::optional;
        downgrade = true;
    }
    SECTION("LEGACY, TLS optional, no features at all: downgraded when the get is answered") {
        const std::string old_header =
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost'>";
        peer.expect("<stream:stream")
            .send(old_header)
            .expect("</iq>")
            .send("<iq type='result' id='$ID'><query xmlns='jabber:iq:auth'><username/>"
                  "<password/><resource/></query></iq>")
            .expect("<password>")
            .wait_close();
        cfg = xmpp_config(peer.port());
        cfg.connection_type = ConnectionType::LEGACY;
        cfg.tls.policy = TlsPolicy::optional;
        downgrade = true;
    }
    cfg.negotiation_timeout = 300ms;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c) || rec.has(ev::AUTHNEGOTIATE); }));
    f.run_for(30ms);
    CHECK(rec.count(net::TCP_DOWNGRADED) == (downgrade ? 1u : 0u));
    if (downgrade) {
        const Seen* d = rec.last(net::TCP_DOWNGRADED);
        REQUIRE(d->reason);
        CHECK(d->reason->condition == "tls-not-offered");
    } else if (cfg.tls.policy == TlsPolicy::required) {
        REQUIRE(rec.has(ev::SSLFAIL));
        CHECK(rec.last(ev::SSLFAIL)->reason->condition == "tls-not-offered");
    }
    shutdown_and_wait(f, c);
}

TEST_CASE("events: a SASL challenge, our response and the failure, with the mechanism",
          "[protocol][events][sasl]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(j2_header + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                          "<mechanism>DIGEST-MD5</mechanism></mechanisms></stream:features>")
        .expect("mechanism=\"DIGEST-MD5\"/>")
        .send("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
              "cmVhbG09ImphYmJlcmQtcm91dGVyIixub25jZT0iWW5xZzEyWkhGWUlBaTNNMzQ1a25PZz09Iixxb3A9"
              "ImF1dGgiLGNoYXJzZXQ9dXRmLTgsYWxnb3JpdGhtPW1kNS1zZXNz</challenge>")
        .expect("</response>")
        .send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/>"
              "<text>Error authenticating user</text></failure>")
        .expect("</stream:stream>")
        .close();
    Config cfg = xmpp_config(peer.port());
    cfg.connection_type = ConnectionType::JABBERD20_COMPONENT;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK(sequence(rec, xs::all, stanzas) ==
          "start_stream open sasl_support sasl_challenge sasl_response sasl_failure");
    const auto* challenge = std::get_if<pcj::SaslStep>(&rec.last(xs::SASL_CHALLENGE)->payload);
    REQUIRE(challenge);
    CHECK(challenge->mechanism == "DIGEST-MD5");
    CHECK(challenge->data.rfind("cmVhbG09", 0) == 0);
    const Seen* response = rec.last(xs::SASL_RESPONSE);
    const auto* step = std::get_if<pcj::SaslStep>(&response->payload);
    REQUIRE(step);
    CHECK(step->mechanism == "DIGEST-MD5");
    CHECK(step->data.empty()); // never the data: it may hold the password
    CHECK_FALSE(response->node);
    const std::string& wire = peer.all_received();
    const auto open = wire.find("<response xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">");
    REQUIRE(open != std::string::npos);
    const auto body =
        open + std::string("<response xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">").size();
    CHECK(step->length == wire.find("</response>", body) - body);
    const Seen* failure = rec.last(xs::SASL_FAILURE);
    REQUIRE(failure->reason);
    CHECK(failure->reason->condition == "not-authorized");
    CHECK(failure->reason->text == "Error authenticating user");
    REQUIRE(std::get_if<pcj::SaslStep>(&failure->payload));
    CHECK(std::get<pcj::SaslStep>(failure->payload).mechanism == "DIGEST-MD5");
}

TEST_CASE("events: a jabberd2 bind result counts as success_handshake", "[protocol][events][j2]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    j2_login(peer).expect("</stream:stream>").close();
    Config cfg = xmpp_config(peer.port());
    cfg.connection_type = ConnectionType::JABBERD20_COMPONENT;
    cfg.bind_domain = "svc.localhost";
    Component c(cfg, f.loop());
    Recorder rec(c);
    connect_ready(f, c);
    CHECK(sequence(rec, xs::all, stanzas) ==
          "start_stream open sasl_support sasl_success start_stream open success_handshake");
    shutdown_and_wait(f, c);
}

TEST_CASE("events: a reconnect is tcp_restablished on a new connection id; the replaced "
          "connection's records end with CHANNEL_CLOSED and DELETED",
          "[protocol][events][reconnect]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).wait_close();
    Component c(j14_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready(); }));
    const std::uint64_t first = c.connection_id();
    c.reconnect();
    REQUIRE(f.run_until([&] { return c.ready(); }));
    const std::uint64_t second = c.connection_id();
    CHECK(second != first);
    shutdown_and_wait(f, c);
    CHECK(sequence(rec, sock::all, packets) ==
          "EVENT_CONNECTING EVENT_CONNECTED EVENT_CHANNEL_CLOSED EVENT_DELETED "
          "EVENT_CONNECTING EVENT_CONNECTED EVENT_CHANNEL_CLOSED EVENT_DELETED");
    CHECK(sequence(rec, net::all, traffic) ==
          "tcp_established ready_to_read tcp_restablished ready_to_read tcp_disconnect");
    std::vector<std::uint64_t> ids;
    for (const auto& s : rec.seen) {
        if (s.name == sock::DELETED) {
            ids.push_back(std::get<SocketRecord>(s.payload).id);
        }
    }
    CHECK(ids == std::vector<std::uint64_t>{first, second});
    const auto* endpoint = std::get_if<Endpoint>(&rec.last(net::TCP_RESTABLISHED)->payload);
    REQUIRE(endpoint);
    CHECK(endpoint->port == peer.port());
}

TEST_CASE("events: a refused connection is tcp_failed and DELETED, never CONNECTED",
          "[protocol][events][connect]") {
    LoopFixture f;
    std::uint16_t port = 0;
    {
        ScriptedPeer gone(f.loop());
        port = gone.port();
        gone.stop();
    }
    Component c(j14_config(port), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK(sequence(rec, sock::all) == "EVENT_CONNECTING EVENT_DELETED");
    // The one address's own failure (doc/connecting.md), then the connection's.
    CHECK(sequence(rec, net::all) == "attempt_failed tcp_failed");
    REQUIRE(rec.last(net::TCP_FAILED)->reason);
    CHECK(rec.last(net::TCP_FAILED)->reason->op == "connect");
    CHECK(rec.last(net::TCP_FAILED)->reason->code == 111); // ECONNREFUSED
}

TEST_CASE("events: a host name is looked up and resolved before CONNECTING; a numeric address "
          "is not",
          "[protocol][events][connect]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).wait_close();
    Config cfg = j14_config(peer.port());
    cfg.ip = "localhost"; // /etc/hosts: 127.0.0.1 only
    Component c(cfg, f.loop());
    Recorder rec(c);
    connect_ready(f, c);
    const auto names = rec.names_in(sock::all);
    REQUIRE(names.size() >= 4);
    CHECK(names[0] == sock::HOSTNAME_LOOKUP);
    CHECK(std::get<SocketRecord>(rec.last(sock::HOSTNAME_LOOKUP)->payload).name == "localhost");
    CHECK(names[1] == sock::HOSTNAME_RESOLVED);
    CHECK(std::get<SocketRecord>(rec.last(sock::HOSTNAME_RESOLVED)->payload).address ==
          "127.0.0.1");
    CHECK(names[2] == sock::CONNECTING);
    CHECK(names[3] == sock::CONNECTED);

    rec.clear();
    c.reconnect("127.0.0.1", peer.port());
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    CHECK_FALSE(rec.has(sock::HOSTNAME_LOOKUP));
    CHECK_FALSE(rec.has(sock::HOSTNAME_RESOLVED));
    shutdown_and_wait(f, c);
}

TEST_CASE("events: the destructor is silent — no DELETED for a component destroyed while "
          "connected",
          "[protocol][events][lifetime]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).wait_close();
    std::vector<std::string> names;
    {
        Component c(j14_config(peer.port()), f.loop());
        auto sub = c.subscribe_all([&](const Event& e) { names.emplace_back(e.name); });
        sub.detach();
        c.connect();
        REQUIRE(f.run_until([&] { return c.ready(); }));
    }
    f.run_for(20ms);
    CHECK(std::find(names.begin(), names.end(), sock::CONNECTED) != names.end());
    CHECK(std::find(names.begin(), names.end(), sock::CHANNEL_CLOSED) == names.end());
    CHECK(std::find(names.begin(), names.end(), sock::DELETED) == names.end());
}

TEST_CASE("events: a subscription made while connected starts receiving the per-read records",
          "[protocol][events][traffic]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).pause(100ms).send("<message id='late'/>").wait_close();
    Component c(j14_config(peer.port()), f.loop());
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready(); }));
    std::vector<std::uint64_t> reads;
    auto sub = c.subscribe(sock::PACKET_READ,
                           [&](const Event& e) { reads.push_back(e.get<SocketRecord>()->bytes); });
    REQUIRE(f.run_until([&] { return !reads.empty(); }));
    CHECK(reads.front() == std::string("<message id='late'/>").size());
    sub.cancel();
    shutdown_and_wait(f, c);
}
