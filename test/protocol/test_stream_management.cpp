// XEP-0198 stream management against a scripted server: the branches a real server does not
// produce on demand — ack counting, the server's <r/>, resumption accepted (with the re-send of
// exactly what the server had not acknowledged) and refused (with the unacknowledged stanzas
// back in the queue). The real servers' side is in test/integration/test_sm_servers.cpp.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "configs.hpp"
#include "loop_fixture.hpp"
#include "pcj/outcome.hpp"
#include "recorder.hpp"
#include "scripted_peer.hpp"
#include "scripts.hpp"
#include "stream_management.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

const std::string sm_bind_features =
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
    "<sm xmlns='urn:xmpp:sm:3'/></stream:features>";
// What the client writes (pcj quotes attributes with ").
const std::string enable = "<enable xmlns=\"urn:xmpp:sm:3\" resume=\"true\"/>";
const std::string enabled = "<enabled xmlns='urn:xmpp:sm:3' id='sm1' resume='true'/>";
const std::string request = "<r xmlns=\"urn:xmpp:sm:3\"/>";

std::string ack(unsigned h) {
    return "<a xmlns=\"urn:xmpp:sm:3\" h=\"" + std::to_string(h) + "\"/>";
}

// A login up to READY with stream management enabled (session 'sm1').
ScriptedPeer& sm_login(ScriptedPeer& peer) {
    return sasl_plain(peer, client_header, plain_only, sm_bind_features)
        .expect("</bind></iq>")
        .send(bind_result("user@localhost/res"))
        .expect(enable)
        .send(enabled);
}

// Logged in; "first" and "second" expected in that order, each acknowledged in turn.
ScriptedPeer& first_then_second(ScriptedPeer& peer) {
    return sm_login(peer)
        .expect("<body>first</body>")
        .expect("<body>second</body>")
        .send(ack(1))
        .pause(50ms)
        .send(ack(2));
}

// The same up to the point where the client should ask to resume.
ScriptedPeer& until_resume(ScriptedPeer& peer) {
    return sasl_plain(peer, client_header, plain_only, sm_bind_features);
}

Node message(const std::string& body) {
    Node m("message");
    m.set_attr("to", "user@localhost/res");
    m.add_child("body").add_text(body);
    return m;
}

std::size_t occurrences(const std::string& haystack, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + needle.size())) {
        ++n;
    }
    return n;
}

const std::vector<Delivery> sent_then_acked{Delivery::sent, Delivery::acked};

// Each stanza's outcomes (Component::output(node, callback)), in the order heard, and the
// order in which stanzas were acknowledged.
struct Outcomes {
    std::map<std::string, std::vector<Delivery>> of;
    std::vector<std::string> acked_in_order;
    void note(const std::string& body, const Outcome& o) {
        of[body].push_back(o.status);
        if (o.status == Delivery::acked) {
            acked_in_order.push_back(body);
        }
    }
    OutcomeCallback track(const std::string& body) {
        return [this, body](const Outcome& o) {
            note(body, o);
        };
    }
};

// After first_then_second(): both stanzas sent then acknowledged, in their order.
void check_first_then_second(const Outcomes& seen) {
    CHECK(seen.of.at("first") == sent_then_acked);
    CHECK(seen.of.at("second") == sent_then_acked);
    CHECK(seen.acked_in_order == std::vector<std::string>{"first", "second"});
}

Config sm_config(std::uint16_t port, unsigned every, std::chrono::milliseconds after) {
    Config cfg = xmpp_config(port);
    cfg.stream_management.ack_every = every;
    cfg.stream_management.ack_after = after;
    return cfg;
}

} // namespace

TEST_CASE("sm: the count of acknowledged stanzas wraps at 2^32", "[protocol][sm][unit]") {
    using detail::newly_acknowledged;
    CHECK(newly_acknowledged(0, 3) == 3);
    CHECK(newly_acknowledged(4294967294u, 1) == 3); // 2^32 - 2 → 1 is three stanzas
    CHECK(newly_acknowledged(4294967295u, 0) == 1);
    CHECK(newly_acknowledged(7, 7) == 0);
}

TEST_CASE("sm: enabled after bind; acks requested every N stanzas and after T ms",
          "[protocol][sm]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    sm_login(peer)
        .expect("<body>m2</body>")
        .expect(request) // after the second stanza (every 2)
        .send(ack(2))
        .expect("<body>m3</body>")
        .expect(request) // m3 alone: asked for after 100 ms
        .send(ack(3));
    Component c(sm_config(peer.port(), 2, 100ms), f.loop());
    Recorder rec(c);
    c.connect();
    const bool ready = f.run_until([&] { return c.ready() || ended(c); });
    INFO(peer.all_received());
    REQUIRE(ready);
    REQUIRE(rec.has(sm::ENABLED));
    c.output(message("m1"));
    c.output(message("m2"));
    c.output(message("m3"));
    REQUIRE(f.run_until([&] { return rec.count(sm::ACK) == 2 || peer.failed(); }));
    CHECK_FALSE(peer.failed());
    CHECK(occurrences(peer.all_received(), request) == 2);
}

TEST_CASE("sm: the server's <r/> is answered with the count of stanzas received",
          "[protocol][sm]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    sm_login(peer)
        .send("<message from='a@localhost' to='user@localhost/res'><body>1</body></message>"
              "<iq type='result' id='x1' from='localhost'/>"
              "<presence from='a@localhost/r'/>" +
              request)
        .expect(ack(3))
        .send(request)
        .expect(ack(3)); // nothing new since
    Component c(sm_config(peer.port(), 0, 0ms), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return peer.done() || peer.failed() || ended(c); }));
    CHECK(peer.done());
    // <r/> and <a/> are stream management's own: the application never sees them.
    for (const auto& seen : rec.names(true)) {
        CHECK(seen.find("urn:xmpp:sm:3") == std::string::npos);
    }
}

// The outbox hands an application's stanza to stream management without copying it, before
// PCJ_NODESENT: a stanza written by a NODESENT subscriber is counted after the one that fired the
// event, as the server counts them, and the kept node is the one written.
TEST_CASE("sm: a stanza written from PCJ_NODESENT is counted after the one that fired it",
          "[protocol][sm]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    first_then_second(peer);
    Component c(sm_config(peer.port(), 0, 0ms), f.loop());
    Recorder rec(c);
    Outcomes seen;
    auto chain = c.subscribe(ev::NODESENT, [&](const Event& e) {
        if (e.node != nullptr &&
            e.node->to_string().find("<body>first</body>") != std::string::npos) {
            c.output(message("second"), seen.track("second"));
        }
    });
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    c.output(message("first"), seen.track("first"));
    REQUIRE(f.run_until([&] { return rec.count(sm::ACK) == 2 || peer.failed() || ended(c); }));
    INFO(peer.all_received());
    CHECK(peer.done());
    check_first_then_second(seen);
}

TEST_CASE("sm: a resumed stream re-sends exactly what the server had not acknowledged",
          "[protocol][sm][resume]") {
    LoopFixture f;
    ScriptedPeer first(f.loop());
    sm_login(first)
        .send("<message from='a@localhost' to='user@localhost/res'><body>in</body></message>")
        .expect("<body>m3</body>")
        .send(ack(1))
        .pause(100ms)
        .reset();
    ScriptedPeer second(f.loop());
    until_resume(second)
        .expect("<resume xmlns=\"urn:xmpp:sm:3\" previd=\"sm1\" h=\"1\"/>")
        .send("<resumed xmlns='urn:xmpp:sm:3' previd='sm1' h='2'/>")
        .expect("<body>m3</body>")
        .expect(request)
        .send(ack(3));
    Component c(sm_config(second.port(), 0, 0ms), f.loop());
    Recorder rec(c);
    Outcomes seen;
    c.connect("127.0.0.1", first.port());
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    for (const char* body : {"m1", "m2", "m3"}) {
        c.output(message(body), seen.track(body));
    }
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK(seen.of["m1"] == sent_then_acked);
    CHECK(seen.of["m2"] == std::vector<Delivery>{Delivery::sent});
    c.connect("127.0.0.1", second.port());
    REQUIRE(f.run_until([&] { return rec.count(sm::ACK) == 2 || second.failed() || ended(c); }));
    CHECK(second.done());
    // Each heard `acked` once; the re-sent m3 is not told `sent` again (handed over once).
    for (const char* body : {"m1", "m2", "m3"}) {
        INFO(body);
        CHECK(seen.of[body] == sent_then_acked);
    }
    CHECK(rec.has(sm::RESUMED));
    CHECK(rec.count(ev::READY) == 2);
    CHECK(rec.count(ev::BINDNEGOTIATE) == 1); // the first connection's only
    CHECK(c.jid() == "user@localhost/res");
    const std::string resent = second.all_received();
    CHECK(occurrences(resent, "<body>m1</body>") == 0);
    CHECK(occurrences(resent, "<body>m2</body>") == 0);
    CHECK(occurrences(resent, "<body>m3</body>") == 1);
    CHECK(occurrences(resent, "<bind") == 0);
}

TEST_CASE("sm: a refused resumption binds afresh and queues the unacknowledged stanzas again",
          "[protocol][sm][resume]") {
    LoopFixture f;
    ScriptedPeer first(f.loop());
    sm_login(first).expect("<body>m3</body>").send(ack(1)).pause(100ms).reset();
    ScriptedPeer second(f.loop());
    until_resume(second)
        .expect("<resume xmlns=\"urn:xmpp:sm:3\" previd=\"sm1\" h=\"0\"/>")
        .send("<failed xmlns='urn:xmpp:sm:3' h='1'>"
              "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>")
        .expect("</bind></iq>")
        .send(bind_result("user@localhost/res"))
        .expect(enable)
        .send("<enabled xmlns='urn:xmpp:sm:3' id='sm2' resume='true'/>")
        .expect("<body>m3</body>")
        .expect(request)
        .send(ack(2));
    Component c(sm_config(second.port(), 2, 0ms), f.loop());
    Recorder rec(c);
    Outcomes seen;
    auto purge = c.subscribe(ev::READY, [&](const Event&) { c.purge_queue(); });
    c.connect("127.0.0.1", first.port());
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    for (const char* body : {"m1", "m2", "m3"}) {
        c.output(message(body), seen.track(body));
    }
    REQUIRE(f.run_until([&] { return ended(c); }));
    c.connect("127.0.0.1", second.port());
    REQUIRE(f.run_until([&] { return second.done() || second.failed() || ended(c); }));
    CHECK(second.done());
    const Seen* refused = rec.last(sm::RESUME_FAILED);
    REQUIRE(refused);
    CHECK(refused->reason->condition == "item-not-found");
    CHECK(rec.count(sm::ENABLED) == 2);
    // m1 was acknowledged (h='1' in <failed/>); m2 and m3 come again, in order, once each.
    const std::string again = second.all_received();
    CHECK(occurrences(again, "<body>m1</body>") == 0);
    CHECK(occurrences(again, "<body>m2</body>") == 1);
    CHECK(occurrences(again, "<body>m3</body>") == 1);
    CHECK(again.find("<body>m2</body>") < again.find("<body>m3</body>"));
    // Back at the head of the queue with their callbacks: written once on each session, then
    // acknowledged by the second.
    REQUIRE(f.run_until([&] { return seen.of["m3"].size() == 3 || ended(c); }));
    CHECK(seen.of["m1"] == sent_then_acked);
    for (const char* body : {"m2", "m3"}) {
        INFO(body);
        CHECK(seen.of[body] ==
              std::vector<Delivery>{Delivery::sent, Delivery::sent, Delivery::acked});
    }
}

TEST_CASE("sm: a server without stream management sees no <enable/> and no <r/>",
          "[protocol][sm]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    xmpp_login(peer).expect("<body>m1</body>").pause(200ms);
    Component c(sm_config(peer.port(), 1, 50ms), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    c.output(message("m1"));
    REQUIRE(f.run_until([&] { return peer.done() || peer.failed(); }));
    CHECK_FALSE(received(peer, "urn:xmpp:sm:3"));
    CHECK_FALSE(rec.has(sm::ENABLED));
}

TEST_CASE("sm: shutdown() asks for a last ack and ends the session: no resumption after",
          "[protocol][sm]") {
    LoopFixture f;
    ScriptedPeer first(f.loop());
    sm_login(first)
        .expect("<body>m2</body>")
        .expect(request + "</stream:stream>") // the last <r/> goes before the closing tag
        .send(ack(1) + "</stream:stream>");   // covers m1 only
    ScriptedPeer second(f.loop());
    until_resume(second)
        .expect("</bind></iq>")
        .send(bind_result("user@localhost/res"))
        .expect(enable)
        .send(enabled)
        .pause(200ms);
    Component c(sm_config(second.port(), 0, 0ms), f.loop());
    Recorder rec(c);
    auto purge = c.subscribe(ev::READY, [&](const Event&) { c.purge_queue(); });
    c.connect("127.0.0.1", first.port());
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    Outcomes seen;
    c.output(message("m1"), seen.track("m1"));
    c.output(message("m2"), seen.track("m2"));
    c.shutdown();
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK(rec.count(sm::ACK) == 1);
    CHECK(seen.of["m1"] == sent_then_acked);
    // Not resent, and settled as the stream ends rather than left for a next connection.
    CHECK(seen.of["m2"] == std::vector<Delivery>{Delivery::sent, Delivery::dropped});
    c.connect("127.0.0.1", second.port());
    REQUIRE(f.run_until([&] { return second.done() || second.failed() || ended(c); }));
    CHECK(second.done());
    CHECK_FALSE(received(second, "<resume"));
    CHECK_FALSE(received(second, "<body>m1</body>"));
    CHECK_FALSE(received(second, "<body>m2</body>"));
    CHECK(seen.of["m2"].size() == 2);
    CHECK_FALSE(rec.has(sm::RESUME_FAILED));
}

// One <r/> at a time: stanzas written while a request is unanswered are asked for when its
// <a/> comes, so a burst costs one request per round trip rather than one per ack_every.
TEST_CASE("sm: one ack request at a time; the next goes when the answer comes", "[protocol][sm]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    sm_login(peer)
        .expect("<body>m6</body>") // all six, with one request after m2
        .send(ack(2))
        .expect(request) // m3..m6 were written meanwhile: asked for at the answer
        .send(ack(6))
        .pause(100ms);
    Component c(sm_config(peer.port(), 2, 0ms), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    Outcomes seen;
    for (int i = 1; i <= 6; ++i) {
        c.output(message("m" + std::to_string(i)), seen.track("m" + std::to_string(i)));
    }
    REQUIRE(f.run_until([&] { return peer.done() || peer.failed() || ended(c); }));
    INFO(peer.all_received());
    CHECK(peer.done());
    CHECK(occurrences(peer.all_received(), request) == 2);
    CHECK(rec.count(sm::ACK) == 2);
    for (int i = 1; i <= 6; ++i) {
        CHECK(seen.of["m" + std::to_string(i)] == sent_then_acked);
    }
}

// The handler hears `sent` while stream management already keeps its stanza: a stanza written
// from that report is counted after it, and each handler hears `acked` once.
TEST_CASE("sm: a stanza written from a `sent` report is kept after the one reported",
          "[protocol][sm]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    first_then_second(peer);
    Component c(sm_config(peer.port(), 0, 0ms), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    Outcomes seen;
    c.output(message("first"), [&](const Outcome& o) {
        seen.note("first", o);
        if (o.status == Delivery::sent) {
            c.output(message("second"), seen.track("second"));
        }
    });
    REQUIRE(f.run_until([&] { return rec.count(sm::ACK) == 2 || peer.failed() || ended(c); }));
    INFO(peer.all_received());
    CHECK(peer.done());
    check_first_then_second(seen);
}

// A `sent` report whose handler ends the session at once (shutdown(), then abort()) settles
// the stanza being reported: its handler hears `dropped` after `sent`, once.
TEST_CASE("sm: a stanza settled from its own `sent` report is told so once", "[protocol][sm]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    sm_login(peer).expect("<body>m1</body>").pause(200ms);
    Component c(sm_config(peer.port(), 0, 0ms), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready() || ended(c); }));
    Outcomes seen;
    c.output(message("m1"), [&](const Outcome& o) {
        seen.of["m1"].push_back(o.status);
        if (o.status == Delivery::sent) {
            c.shutdown();
            c.abort(Reason{"test", 0, "gone", "ended from the sent report"});
        }
    });
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK(seen.of["m1"] == std::vector<Delivery>{Delivery::sent, Delivery::dropped});
}
