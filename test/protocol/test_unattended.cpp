// Unattended operation against scripted peers (doc/unattended.md): the reconnect policy's
// branches (transient, fatal, see-other-host, shutdown, attempts used up) with a fixed random
// source and short delays, the queue's limits and every outcome, the send rate limit, and
// replies from an address other than the one asked.
#include <catch2/catch.hpp>

#include "component_impl.hpp"
#include "configs.hpp"
#include "loop_fixture.hpp"
#include "pcj/disco.hpp"
#include "pcj/ping.hpp"
#include "recorder.hpp"
#include "scripted_peer.hpp"
#include "scripts.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

Node chat(const std::string& body) {
    return build("message")
        .attr("to", "user@localhost")
        .attr("from", "component.localhost")
        .child(build("body").text(body));
}

// A policy with tiny delays and a random source that always draws `u`.
ReconnectConfig fast_policy(double u, unsigned max_attempts = 0) {
    ReconnectConfig r;
    r.enabled = true;
    r.initial_delay = 20ms;
    r.max_delay = 80ms;
    r.multiplier = 2.0;
    r.max_attempts = max_attempts;
    r.uniform = [u] {
        return u;
    };
    return r;
}

const ReconnectAttempt* attempt_of(const Seen& s) {
    return std::get_if<ReconnectAttempt>(&s.payload);
}

std::vector<Outcome> outcomes;
OutcomeCallback keep() {
    return [](const Outcome& o) {
        outcomes.push_back(o);
    };
}

const std::string stream_error_close(const std::string& inner) {
    return "<stream:error>" + inner + "</stream:error></stream:stream>";
}

} // namespace

TEST_CASE("unattended: a lost link is connected again after the drawn delay, READY resets it",
          "[protocol][unattended][reconnect]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).pause(10ms).close();
    Config cfg = j14_config(peer.port());
    cfg.reconnect = fast_policy(0.5);
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.count(ev::READY) >= 3; }));
    CHECK(peer.connections() >= 3);
    std::vector<const Seen*> delays;
    for (const auto& s : rec.seen) {
        if (s.name == un::RECONNECT_DELAY) {
            delays.push_back(&s);
        }
    }
    REQUIRE(delays.size() >= 2);
    for (const Seen* s : delays) {
        REQUIRE(attempt_of(*s) != nullptr);
        CHECK(attempt_of(*s)->attempt == 1);  // each READY started the backoff afresh
        CHECK(attempt_of(*s)->delay == 10ms); // 0.5 × the first bound, 20 ms
        CHECK(s->reason);                     // the connection's first failure
    }
    // The application's shutdown() ends the policy: no connection follows.
    c.shutdown();
    REQUIRE(f.run_until([&] { return c.state() == State::disconnected; }));
    const auto connections = peer.connections();
    f.run_for(150ms);
    CHECK(peer.connections() == connections);
    CHECK(rec.count(un::RECONNECT_STOPPED) == 0);
}

TEST_CASE("unattended: refused connections back off, capped, until the attempts are used up",
          "[protocol][unattended][reconnect]") {
    LoopFixture f;
    std::uint16_t port = 0;
    {
        ScriptedPeer gone(f.loop());
        port = gone.port();
        gone.stop(); // nothing listens there any more: each attempt is refused
    }
    Config cfg = j14_config(port);
    cfg.reconnect = fast_policy(0.999, 4);
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.count(un::RECONNECT_STOPPED) == 1; }));
    std::vector<ReconnectAttempt> attempts;
    for (const auto& s : rec.seen) {
        if (s.name == un::RECONNECT_DELAY) {
            attempts.push_back(*attempt_of(s));
        }
    }
    REQUIRE(attempts.size() == 4);
    const std::vector<std::chrono::milliseconds> expected{19ms, 39ms, 79ms, 79ms};
    for (std::size_t i = 0; i < attempts.size(); ++i) {
        CHECK(attempts[i].attempt == i + 1);
        CHECK(attempts[i].delay == expected[i]); // 0.999 × 20, 40, 80, then the cap
    }
    CHECK(rec.count(ev::CONNECTFAIL) == 5); // the first try and four retries
    const Seen& stop = *std::find_if(rec.seen.begin(), rec.seen.end(),
                                     [](const Seen& s) { return s.name == un::RECONNECT_STOPPED; });
    REQUIRE(stop.reason);
    CHECK(stop.reason->condition == "attempts-exhausted");
}

TEST_CASE("unattended: a fatal stream error stops the policy with one final event",
          "[protocol][unattended][reconnect]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).send(
        stream_error_close("<host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"));
    Config cfg = j14_config(peer.port());
    cfg.reconnect = fast_policy(0.0);
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.count(un::RECONNECT_STOPPED) == 1; }));
    f.run_for(100ms);
    CHECK(peer.connections() == 1);
    CHECK(rec.count(un::RECONNECT_DELAY) == 0);
    CHECK(rec.count(un::RECONNECT_STOPPED) == 1);
    const auto it = std::find_if(rec.seen.begin(), rec.seen.end(),
                                 [](const Seen& s) { return s.name == un::RECONNECT_STOPPED; });
    REQUIRE(it->reason);
    CHECK(it->reason->condition == "host-unknown");
}

TEST_CASE("unattended: see-other-host is followed to the host and port it names",
          "[protocol][unattended][reconnect]") {
    LoopFixture f;
    ScriptedPeer other(f.loop());
    handshake(other);
    ScriptedPeer first(f.loop());
    handshake(first).send(stream_error_close(
        "<see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>127.0.0.1:" +
        std::to_string(other.port()) + "</see-other-host>"));
    Config cfg = j14_config(first.port());
    cfg.reconnect = fast_policy(0.0);
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return other.connections() == 1 && c.ready(); }));
    CHECK(first.connections() == 1);
    CHECK(rec.count(un::RECONNECT_DELAY) == 1);
}

TEST_CASE("unattended: a full queue refuses the new stanza or drops the oldest, with outcomes",
          "[protocol][unattended][queue]") {
    LoopFixture f;
    Config cfg = j14_config(1);
    cfg.queue.max_stanzas = 2;
    SECTION("reject_new") {
        Component c(cfg, f.loop());
        Recorder rec(c);
        outcomes.clear();
        c.output(chat("one"), keep());
        c.output(chat("two"), keep());
        c.output(chat("three"), keep());
        REQUIRE(outcomes.size() == 3);
        CHECK(outcomes[0].status == Delivery::queued);
        CHECK(outcomes[1].status == Delivery::queued);
        CHECK(outcomes[2].status == Delivery::failed);
        CHECK(outcomes[2].reason.condition == "queue-full");
        CHECK(c.queue().size() == 2);
        REQUIRE(rec.count(un::QUEUE_REJECTED) == 1);
        CHECK(rec.seen.back().node->to_string().find("three") != std::string::npos);
    }
    SECTION("drop_oldest") {
        cfg.queue.when_full = QueueFullPolicy::drop_oldest;
        Component c(cfg, f.loop());
        Recorder rec(c);
        outcomes.clear();
        c.output(chat("one"), keep());
        c.output(chat("two"), keep());
        c.output(chat("three"), keep());
        REQUIRE(outcomes.size() == 4); // queued ×2, dropped (one), queued (three)
        CHECK(outcomes[2].status == Delivery::dropped);
        CHECK(outcomes[3].status == Delivery::queued);
        REQUIRE(c.queue().size() == 2);
        CHECK(c.queue().front().to_string().find("two") != std::string::npos);
        CHECK(rec.count(un::QUEUE_DROPPED) == 1);
    }
    SECTION("a byte limit") {
        cfg.queue.max_stanzas = 0;
        cfg.queue.max_bytes = chat("one").to_string().size() * 2 + 1;
        Component c(cfg, f.loop());
        Recorder rec(c);
        c.output(chat("one"));
        c.output(chat("two"));
        c.output(chat("six"));
        CHECK(c.queue().size() == 2);
        CHECK(rec.count(un::QUEUE_REJECTED) == 1);
    }
}

TEST_CASE("unattended: flush_at_ready writes the queue by itself, outcomes say queued then sent",
          "[protocol][unattended][queue]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).expect("<body>two</body>").expect("<body>three</body>");
    Config cfg = j14_config(peer.port());
    cfg.queue.flush_at_ready = true;
    Component c(cfg, f.loop());
    outcomes.clear();
    c.output(chat("one"), keep());
    c.output(chat("two"), keep());
    auto on_ready = c.subscribe(ev::READY, [&](const Event&) {
        c.output(chat("three"), keep()); // behind the flushed queue, not ahead of it
    });
    c.connect();
    REQUIRE(f.run_until([&] { return peer.done(); }));
    CHECK(c.queue().empty());
    const std::string wire = peer.all_received();
    CHECK(wire.find("<body>one</body>") < wire.find("<body>two</body>"));
    CHECK(wire.find("<body>two</body>") < wire.find("<body>three</body>"));
    std::vector<Delivery> seen;
    for (const auto& o : outcomes) {
        seen.push_back(o.status);
    }
    CHECK(seen == std::vector<Delivery>{Delivery::queued, Delivery::queued, Delivery::sent,
                                        Delivery::sent, Delivery::sent});
    CHECK(outcomes[4].waited == 0ms);
}

TEST_CASE("unattended: requeue_front puts stanzas back at the head, in order, with handlers",
          "[protocol][unattended][queue]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).expect("<body>c</body>");
    Config cfg = j14_config(peer.port());
    cfg.queue.max_stanzas = 1; // requeued stanzas were accepted once: the limit does not refuse
    detail::ComponentImpl impl(cfg, f.loop());
    outcomes.clear();
    impl.outbox_.output(chat("c"), keep());
    std::vector<std::pair<Node, detail::OutcomeHandler>> back;
    back.emplace_back(chat("a"), keep());
    back.emplace_back(chat("b"), keep());
    impl.outbox_.requeue_front(std::move(back));
    REQUIRE(impl.outbox_.queue().size() == 3);
    impl.connect("127.0.0.1", peer.port());
    REQUIRE(f.run_until([&] { return impl.lifecycle_.state() == State::ready; }));
    impl.purge_queue();
    REQUIRE(f.run_until([&] { return peer.done(); }));
    const std::string wire = peer.all_received();
    CHECK(wire.find("<body>a</body>") < wire.find("<body>b</body>"));
    CHECK(wire.find("<body>b</body>") < wire.find("<body>c</body>"));
    REQUIRE(outcomes.size() == 4); // c queued; a, b, c sent
    CHECK(outcomes[1].status == Delivery::sent);
    CHECK(outcomes[3].status == Delivery::sent);
    CHECK(impl.outbox_.queued_bytes() == 0);
}

TEST_CASE("unattended: the send rate limit spaces stanzas out and reports the wait",
          "[protocol][unattended][rate]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).expect("<body>14</body>");
    Config cfg = j14_config(peer.port());
    cfg.rate_limit.stanzas_per_second = 50; // a burst of 50, then one per 20 ms
    Component c(cfg, f.loop());
    outcomes.clear();
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready(); }));
    // 50 leave at once; the 15 after them wait 20 ms each, ≈ 300 ms.
    for (int i = 0; i < 50; ++i) {
        c.output(chat("x" + std::to_string(i)));
    }
    for (int i = 0; i < 15; ++i) {
        c.output(chat(std::to_string(i)), keep());
    }
    CHECK(!c.queue().empty());
    const auto start = std::chrono::steady_clock::now();
    REQUIRE(f.run_until([&] { return peer.done(); }));
    CHECK(std::chrono::steady_clock::now() - start >= 150ms);
    const std::string wire = peer.all_received();
    CHECK(wire.find("<body>x49</body>") < wire.find("<body>0</body>"));
    CHECK(std::count_if(outcomes.begin(), outcomes.end(),
                        [](const Outcome& o) { return o.status == Delivery::sent; }) == 15);
    CHECK(outcomes.back().status == Delivery::sent);
    CHECK(outcomes.back().waited >= 150ms);
}

TEST_CASE("unattended: a reply from another address than the one asked is not the reply",
          "[protocol][unattended][rts]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .expect("</iq>")
        .send("<iq type='result' id='$ID' from='mallory@localhost' to='component.localhost'/>")
        .send("<iq type='result' id='$ID' from='user@localhost/res' to='component.localhost'/>");
    Component c(j14_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready(); }));
    std::vector<std::string> replies;
    c.return_to_sender(build("iq")
                           .attr("type", "get")
                           .attr("to", "user@localhost/res")
                           .attr("from", "component.localhost")
                           .child(build("query").attr("xmlns", "jabber:iq:version")),
                       [&](const Event& e) {
                           replies.push_back(e.node != nullptr ? e.node->attr("from") : "none");
                       });
    REQUIRE(f.run_until([&] { return !replies.empty(); }));
    CHECK(replies == std::vector<std::string>{"user@localhost/res"});
    REQUIRE(rec.count(un::RTS_FOREIGN_REPLY) == 1);
    const auto it = std::find_if(rec.seen.begin(), rec.seen.end(),
                                 [](const Seen& s) { return s.name == un::RTS_FOREIGN_REPLY; });
    CHECK(it->node->attr("from") == "mallory@localhost");
    REQUIRE(std::get_if<Text>(&it->payload) != nullptr);
    CHECK(std::get_if<Text>(&it->payload)->text == "user@localhost/res");
    // The foreign stanza went on as an ordinary one.
    CHECK(rec.count(ev::NODERECEIVED) == 1);
}

TEST_CASE("unattended: a disco#info reply from another address than the one asked is ignored",
          "[protocol][unattended][rts][disco]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    const std::string info_ns(disco_info_ns);
    const std::string reply_body =
        "<query xmlns='" + info_ns + "'><identity category='conference' type='text'/></query></iq>";
    handshake(peer)
        .expect(info_ns + "\"/></iq>")
        .send("<iq type='result' id='$ID' from='mallory.localhost' to='component.localhost'>" +
              reply_body)
        .send("<iq type='result' id='$ID' from='conference.localhost' to='component.localhost'>" +
              reply_body);
    Component c(j14_config(peer.port()), f.loop());
    auto disco = std::make_shared<Disco>();
    c.attach(disco);
    Recorder rec(c);
    connect_ready(f, c);
    disco->query_info("conference.localhost", "", 2s);
    REQUIRE(f.run_until([&] { return rec.has(ext::QUERY_INFO); }));
    CHECK(rec.count(ext::QUERY_INFO) == 1);
    const Seen* got = rec.last(ext::QUERY_INFO);
    REQUIRE(got->node);
    CHECK(got->node->attr("from") == "conference.localhost");
    CHECK(rec.count(un::RTS_FOREIGN_REPLY) == 1);
}

TEST_CASE("unattended: a ping reply from another address than the one pinged is ignored",
          "[protocol][unattended][rts][ping]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .expect("urn:xmpp:ping")
        .expect("</iq>")
        .send("<iq type='result' id='$ID' from='mallory@localhost' to='component.localhost'/>")
        .pause(50ms)
        .send("<iq type='result' id='$ID' from='user@localhost/res' to='component.localhost'/>");
    Component c(j14_config(peer.port()), f.loop());
    auto ping = std::make_shared<Ping>();
    c.attach(ping);
    Recorder rec(c);
    connect_ready(f, c);
    std::vector<PingResult> results;
    ping->ping(
        "user@localhost/res", [&](const PingResult& r) { results.push_back(r); }, 2s);
    REQUIRE(f.run_until([&] { return !results.empty(); }));
    CHECK(results.size() == 1);
    CHECK(results[0].answered);
    CHECK(rec.count(un::RTS_FOREIGN_REPLY) == 1);
}

TEST_CASE("unattended: a repeated message is dropped once remembered, with its event",
          "[protocol][unattended][duplicate]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    const std::string m1 = "<message from='a@localhost/r' to='component.localhost' id='m1'>"
                           "<body>one</body></message>";
    handshake(peer)
        .send(m1)
        .send(m1) // the same from and id: the sender re-sent it after a crash
        .send("<message from='b@localhost/r' to='component.localhost' id='m1'>"
              "<body>another sender</body></message>")
        .send("<message from='a@localhost/r' to='component.localhost'><body>no id</body></message>")
        .send("<message from='a@localhost/r' to='component.localhost'><body>no id</body></message>")
        .send("<message from='a@localhost/r' to='component.localhost' id='m2'/>")
        .send(m1); // m1 left the window of 2 when m2 came
    Config cfg = j14_config(peer.port());
    cfg.duplicate_window = 2;
    Component c(cfg, f.loop());
    Recorder rec(c);
    std::vector<std::string> bodies;
    auto filter = c.subscribe("every_message", [&](const Event& e) {
        const Node* body = e.node->child("body");
        bodies.push_back(body != nullptr ? body->text() : "-");
    });
    c.add_filter("every_message", "/message");
    c.connect();
    REQUIRE(f.run_until([&] { return peer.done() || ended(c); }));
    f.run_until([&] { return bodies.size() == 6 || ended(c); });
    CHECK(rec.count(ev::NODERECEIVED) == 6);
    f.run_for(50ms);
    CHECK(bodies ==
          std::vector<std::string>{"one", "another sender", "no id", "no id", "-", "one"});
    REQUIRE(rec.count(un::DUPLICATE_DROPPED) == 1);
    CHECK(rec.last(un::DUPLICATE_DROPPED)->node->attr("id") == "m1");
    CHECK(rec.count(ev::NODERECEIVED) == 6);
}

TEST_CASE("unattended: without a duplicate window every message goes on",
          "[protocol][unattended][duplicate]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    const std::string m1 =
        "<message from='a@localhost/r' to='component.localhost' id='m1'><body>one</body></message>";
    handshake(peer).send(m1).send(m1);
    Component c(j14_config(peer.port()), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.count(ev::NODERECEIVED) == 2 || ended(c); }));
    CHECK(rec.count(ev::NODERECEIVED) == 2);
    CHECK_FALSE(rec.has(un::DUPLICATE_DROPPED));
}
