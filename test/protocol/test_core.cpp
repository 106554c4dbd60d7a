// The broker core against a scripted XEP-0114 peer: queue, return_to_sender, filters, shutdown,
// reconnect and hostile input — the branches no real server produces on demand.
#include <catch2/catch.hpp>

#include "configs.hpp"
#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "scripted_peer.hpp"
#include "scripts.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

Node chat(const std::string& body, const std::string& id = {}) {
    Node m = build("message")
                 .attr("to", "user@localhost")
                 .attr("from", "component.localhost")
                 .attr("type", "chat")
                 .child(build("body").text(body));
    if (!id.empty()) {
        m.set_attr("id", id);
    }
    return m;
}

} // namespace

TEST_CASE("core: output before READY is queued and purge_queue sends it in FIFO order",
          "[protocol][core][queue]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).expect("<body>two</body>");
    Component c(j14_config(peer.port(), 2s), f.loop());
    Recorder rec(c);
    c.output(chat("one"));
    c.output(chat("two"));
    CHECK(rec.count(ev::NODEQUEUED) == 2);
    CHECK(c.queue().size() == 2);
    auto on_ready = c.subscribe(ev::READY, [&](const Event&) {
        c.output(chat("three")); // after READY: written at once, ahead of the queue
    });
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready(); }));
    // Nothing is flushed by itself: only the application knows whether it is still valid.
    CHECK(c.queue().size() == 2);
    c.purge_queue();
    CHECK(c.queue().empty());
    REQUIRE(f.run_until([&] { return peer.done(); }));
    const std::string wire = peer.all_received();
    CHECK(wire.find("<body>three</body>") < wire.find("<body>one</body>"));
    CHECK(wire.find("<body>one</body>") < wire.find("<body>two</body>"));
    CHECK(rec.count(ev::NODESENT) >= 4); // handshake + three messages
}

TEST_CASE("core: after READY inbound stanzas reach filters and then PCJ_NODERECEIVED",
          "[protocol][core][filters]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .send("<message from='a@localhost' to='component.localhost' type='chat'>"
              "<body>hello</body></message>")
        .send("<presence from='a@localhost' to='component.localhost'/>");
    Component c(j14_config(peer.port(), 2s), f.loop());
    c.add_filter("chat", "/message[@type='chat']");
    c.add_filter("bodies", "//body");
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.count(ev::NODERECEIVED) == 2; }));
    std::vector<std::string> order;
    for (const auto& s : rec.seen) {
        if (s.name == "chat" || s.name == "bodies" || s.name == ev::NODERECEIVED) {
            order.push_back(s.name);
        }
    }
    CHECK(join(order) == "chat bodies PCJ_NODERECEIVED PCJ_NODERECEIVED");
    const Seen* chat_ev = rec.last("chat");
    REQUIRE(chat_ev);
    CHECK(chat_ev->xpath == "/message[@type='chat']");
    REQUIRE(chat_ev->node);
    CHECK(chat_ev->node->name() == "message");
    const Seen* bodies = rec.last("bodies");
    REQUIRE(bodies->matches.size() == 1);
    CHECK(bodies->matches[0].text() == "hello");
    shutdown_and_wait(f, c);
}

TEST_CASE("core: a removed filter no longer fires and a bad one is refused at once",
          "[protocol][core][filters]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .send("<message type='chat'><body>1</body></message>")
        .expect("<ping/>")
        .send("<message type='chat'><body>2</body></message>");
    Component c(j14_config(peer.port(), 2s), f.loop());
    CHECK_THROWS_AS(c.add_filter("bad", "[[bad"), XPathError);
    c.add_filter("chat", "/message");
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.count(ev::NODERECEIVED) == 1; }));
    CHECK(rec.count("chat") == 1);
    CHECK(c.remove_filter("chat") == 1);
    c.output(Node("ping"));
    REQUIRE(f.run_until([&] { return rec.count(ev::NODERECEIVED) == 2; }));
    CHECK(rec.count("chat") == 1);
    shutdown_and_wait(f, c);
}

TEST_CASE("core: a return_to_sender reply reaches its requester and nothing else",
          "[protocol][core][rts]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .expect("id=\"q1\"")
        .send("<iq type='result' id='q1' from='localhost'><query "
              "xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    Component c(j14_config(peer.port(), 2s), f.loop());
    c.add_filter("any", "/iq");
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready(); }));
    Node iq = build("iq")
                  .attr("type", "get")
                  .attr("to", "localhost")
                  .attr("id", "q1")
                  .child(build("query", "http://jabber.org/protocol/disco#info"));
    CHECK(c.return_to_sender(iq, "disco_reply") == "q1");
    CHECK(c.pending().count("q1") == 1);
    REQUIRE(f.run_until([&] { return rec.has("disco_reply"); }));
    CHECK(rec.has(ev::RTS_START));
    CHECK(rec.has(ev::RTS_FINISH));
    CHECK_FALSE(rec.has("any"));            // filters are short-circuited
    CHECK_FALSE(rec.has(ev::NODERECEIVED)); // and so is NODERECEIVED
    CHECK(c.pending().empty());
    const Seen* reply = rec.last("disco_reply");
    REQUIRE(reply->node);
    CHECK(reply->node->attr("type") == "result");
    shutdown_and_wait(f, c);
}

TEST_CASE("core: return_to_sender with a callback, a generated id and a duplicate id",
          "[protocol][core][rts]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).expect("id=\"dup\"").expect("<iq");
    Component c(j14_config(peer.port(), 2s), f.loop());
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready(); }));
    int replies_a = 0;
    Node a = build("iq").attr("type", "get").attr("id", "dup");
    Node b = build("iq").attr("type", "get").attr("id", "dup");
    const std::string ida = c.return_to_sender(a, [&](const Event&) { ++replies_a; });
    const std::string idb = c.return_to_sender(b, "b_reply");
    CHECK(ida == "dup");
    CHECK(idb != "dup");
    CHECK(c.pending().size() == 2);
    REQUIRE(f.run_until([&] { return peer.done(); }));
    CHECK(peer.all_received().find("id=\"" + idb + "\"") != std::string::npos);
    shutdown_and_wait(f, c);
}

TEST_CASE("core: a request that times out is answered with a timeout result",
          "[protocol][core][rts]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer);
    Component c(j14_config(peer.port(), 2s), f.loop());
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready(); }));
    std::optional<Reason> got;
    bool had_node = true;
    c.return_to_sender(
        build("iq").attr("type", "get"),
        [&](const Event& e) {
            had_node = e.node != nullptr;
            if (e.reason) {
                got = *e.reason;
            }
        },
        100ms);
    REQUIRE(f.run_until([&] { return got.has_value(); }, 3s));
    CHECK(got->condition == "timeout");
    CHECK_FALSE(had_node);
    CHECK(c.pending().empty());
    shutdown_and_wait(f, c);
}

TEST_CASE("core: pending requests are answered 'disconnected' when the server vanishes",
          "[protocol][core][rts]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).expect("<iq").close();
    Component c(j14_config(peer.port(), 2s), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready(); }));
    c.return_to_sender(build("iq").attr("type", "get"), "lost");
    REQUIRE(f.run_until([&] { return ended(c); }));
    const Seen* lost = rec.last("lost");
    REQUIRE(lost);
    REQUIRE(lost->reason);
    CHECK(lost->reason->condition == "disconnected");
    CHECK(c.pending().empty());
    const std::string names = join(rec.names());
    CHECK(names.find("PCJ_SOCKETFAIL") < names.find("PCJ_SOCKETDISCONNECT"));
    CHECK(names.find("PCJ_SOCKETDISCONNECT") != std::string::npos);
}

TEST_CASE("core: shutdown fires each shutdown event once, and a later connect starts clean",
          "[protocol][core][shutdown]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).expect("</stream:stream>").send("</stream:stream>").close();
    Component c(j14_config(peer.port(), 2s), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready(); }));
    rec.clear();
    c.shutdown();
    c.shutdown(); // a second call while shutting down changes nothing
    REQUIRE(f.run_until([&] { return ended(c); }));
    CHECK(join(rec.names()) ==
          "PCJ_STREAMEND PCJ_SHUTDOWN_START PCJ_SOCKETDISCONNECT PCJ_SHUTDOWN_FINISH");
    CHECK_FALSE(rec.has(ev::SOCKETFAIL)); // the peer's close was expected

    // Connect again: READY again, and writes no longer produce shutdown events (PCJ did:
    // doc/origins.md, bug 7).
    rec.clear();
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready(); }));
    c.output(chat("after"));
    f.run_for(100ms);
    CHECK_FALSE(rec.has(ev::SHUTDOWN_FINISH));
    CHECK_FALSE(rec.has(ev::SOCKETDISCONNECT));
    CHECK(peer.connections() == 2);
    shutdown_and_wait(f, c);
}

TEST_CASE("core: shutdown completes within its bound when the peer never closes",
          "[protocol][core][shutdown]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).wait_close();
    Config cfg = j14_config(peer.port(), 2s);
    cfg.shutdown_timeout = 150ms;
    Component c(cfg, f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready(); }));
    c.shutdown();
    REQUIRE(f.run_until([&] { return ended(c); }, 3s));
    CHECK(rec.count(ev::SHUTDOWN_FINISH) == 1);
    CHECK(rec.count(ev::SOCKETDISCONNECT) == 1);
}

TEST_CASE("core: a refused connection is PCJ_CONNECTFAIL with the operation and errno",
          "[protocol][core][connect]") {
    LoopFixture f;
    std::uint16_t closed_port = 0;
    {
        ScriptedPeer probe(f.loop()); // find a port, then free it
        closed_port = probe.port();
    }
    f.run_for(20ms);
    Component c(j14_config(closed_port, 2s), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.has(ev::CONNECTFAIL); }));
    CHECK(join(rec.names()) == "PCJ_CONNECT PCJ_CONNECTING PCJ_CONNECTFAIL");
    const Seen* fail = rec.last(ev::CONNECTFAIL);
    REQUIRE(fail->reason);
    CHECK(fail->reason->op == "connect");
    CHECK(fail->reason->code == 111);
    CHECK(c.state() == State::disconnected);
}

TEST_CASE("core: the queue survives a lost connection and purge delivers it after reconnect",
          "[protocol][core][queue]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).pause(150ms).close();
    Component c(j14_config(peer.port(), 2s), f.loop());
    Recorder rec(c);
    auto on_ready = c.subscribe(ev::READY, [&](const Event&) { c.purge_queue(); });
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready(); }));
    // The first connection dies; output meanwhile is queued, never lost.
    REQUIRE(f.run_until([&] { return ended(c); }));
    c.output(chat("queued"));
    CHECK(c.queue().size() == 1);
    c.reconnect();
    REQUIRE(f.run_until([&] { return peer.connections() == 2 && c.queue().empty(); }));
    REQUIRE(f.run_until([&] {
        const auto& r = peer.received();
        return r.size() == 2 && r[1].find("<body>queued</body>") != std::string::npos;
    }));
}

TEST_CASE("core: hostile XML after READY ends the stream with a clear failure, queue kept",
          "[protocol][core][xml]") {
    auto [input, condition] = GENERATE(table<std::string, std::string>({
        {"<!DOCTYPE x [<!ENTITY a 'b'>]>", "restricted-xml"}, // no DTD inside a stream
        {"<?evil pi?>", "restricted-xml"},
        {"<message><body>x</bod></message>", "not-well-formed"},
        {"<message>\xff\xfe</message>", "not-well-formed"},
    }));
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).pause(30ms).send(input).expect("</stream:stream>");
    Component c(j14_config(peer.port(), 2s), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return c.ready(); }));
    c.output(chat("sent before"));
    REQUIRE(f.run_until([&] { return ended(c); }));
    const Seen* fail = rec.last(ev::SOCKETFAIL);
    REQUIRE(fail);
    REQUIRE(fail->reason);
    CHECK(fail->reason->op == "xml");
    CHECK(fail->reason->condition == condition);
    CHECK_FALSE(fail->reason->text.empty());
    // The peer reads on the same loop: let it take in what pcj wrote before closing.
    REQUIRE(f.run_until([&] { return peer.client_closed(); }));
    INFO("peer received: " << peer.all_received());
    CHECK(peer.all_received().find("<stream:error><" + condition) != std::string::npos);
    CHECK(rec.count(ev::SOCKETDISCONNECT) == 1);
    // Output after the failure is queued, not lost.
    c.output(chat("kept"));
    CHECK(c.queue().size() == 1);
}

TEST_CASE("core: a stream error after READY closes the stream and carries its condition",
          "[protocol][core][shutdown]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .pause(20ms)
        .send("<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
              "</stream:error></stream:stream>")
        .expect("</stream:stream>")
        .close();
    Component c(j14_config(peer.port(), 2s), f.loop());
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return ended(c); }));
    const Seen* start = rec.last(ev::SHUTDOWN_START);
    REQUIRE(start);
    REQUIRE(start->reason);
    CHECK(start->reason->condition == "system-shutdown");
    CHECK(rec.count(ev::SHUTDOWN_FINISH) == 1);
}

TEST_CASE("core: a handler may reconnect from inside a failure event", "[protocol][core]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).pause(20ms).close();
    Component c(j14_config(peer.port(), 2s), f.loop());
    Recorder rec(c);
    int reconnects = 0;
    auto sub = c.subscribe(ev::SOCKETFAIL, [&](const Event&) {
        if (reconnects++ == 0) {
            c.reconnect();
        }
    });
    c.connect();
    REQUIRE(f.run_until([&] { return rec.count(ev::READY) == 2; }));
    CHECK(peer.connections() == 2);
    c.shutdown();
    REQUIRE(f.run_until([&] { return ended(c) || rec.count(ev::SOCKETFAIL) == 2; }));
}

TEST_CASE("core: with debug on, every node sent and received goes to the logger",
          "[protocol][core][debug]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer).send("<message><body>in</body></message>");
    Config cfg = j14_config(peer.port(), 2s);
    cfg.debug = true;
    Component c(cfg, f.loop());
    std::vector<std::string> lines;
    c.set_logger(
        [&](LogLevel, std::string_view, std::string_view line) { lines.emplace_back(line); });
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.has(ev::NODERECEIVED); }));
    auto seen = [&](const std::string& needle) {
        for (const auto& l : lines) {
            if (l.find(needle) != std::string::npos) {
                return true;
            }
        }
        return false;
    };
    CHECK(seen("Sent: <stream:stream"));
    CHECK(seen("Sent: <handshake>"));
    CHECK(seen("Recd: <handshake/>"));
    CHECK(seen("Recd: <message><body>in</body></message>"));
    shutdown_and_wait(f, c);
}

TEST_CASE("core: many components share one loop", "[protocol][core]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer);
    std::vector<std::unique_ptr<Component>> cs;
    for (int i = 0; i < 5; ++i) {
        cs.push_back(std::make_unique<Component>(j14_config(peer.port(), 2s), f.loop()));
        cs.back()->connect();
    }
    REQUIRE(f.run_until(
        [&] { return std::all_of(cs.begin(), cs.end(), [](auto& c) { return c->ready(); }); }));
    CHECK(cs[0]->id() != cs[1]->id());
    for (auto& c : cs) {
        c->shutdown();
    }
    REQUIRE(f.run_until(
        [&] { return std::all_of(cs.begin(), cs.end(), [](auto& c) { return ended(*c); }); }));
}
