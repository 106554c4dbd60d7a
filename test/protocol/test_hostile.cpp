// The same hostile table against every connection type: a connection that reached READY is fed
// DTD markup, a second stream header, a start tag with too many attributes, a stanza with too
// many namespace declarations, or a stanza trickling in a byte every 100 ms. Each ends the
// stream at once with its precise reason, tells the peer, and loses nothing that came before.
#include <catch2/catch.hpp>

#include <functional>
#include <string>

#include "configs.hpp"
#include "scripted_peer.hpp"
#include "scripts.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

const std::string legacy_header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                                  "xmlns:stream='http://etherx.jabber.org/streams' "
                                  "id='legacysid123' from='localhost'>";

struct Type {
    const char* name;
    std::function<Config(std::uint16_t)> config;
    std::function<void(ScriptedPeer&)> login;
    std::string header; // the peer's stream header, for the second-header row
};

std::vector<Type> types() {
    return {
        {"XMPP", [](std::uint16_t port) { return xmpp_config(port); },
         [](ScriptedPeer& p) { xmpp_login(p); }, client_header},
        {"LEGACY", [](std::uint16_t port) { return legacy_config(port); },
         [](ScriptedPeer& p) {
             p.expect("<stream:stream")
                 .send(legacy_header)
                 .expect("</iq>")
                 .send("<iq type='result' id='$ID'><query xmlns='jabber:iq:auth'><username/>"
                       "<digest/><resource/></query></iq>")
                 .expect("</iq>")
                 .send("<iq type='result' id='$ID'/>");
         },
         legacy_header},
        {"JABBERD14_COMPONENT", [](std::uint16_t port) { return j14_config(port); },
         [](ScriptedPeer& p) { handshake(p); }, component_header},
        {"JABBERD20_COMPONENT", [](std::uint16_t port) { return j2_config(port); },
         [](ScriptedPeer& p) { j2_login(p); }, j2_header},
    };
}

std::string many_attributes() {
    std::string s = "<message";
    for (int i = 0; i < 70; ++i)
        s += " a" + std::to_string(i) + "='v'";
    return s + "/>";
}

std::string many_namespaces() {
    std::string s = "<message>";
    for (int i = 0; i < 70; ++i)
        s += "<x xmlns:p" + std::to_string(i) + "='urn:" + std::to_string(i) + "'/>";
    return s + "</message>";
}

struct Row {
    const char* name;
    std::function<void(ScriptedPeer&, const Type&)> hostile;
    const char* condition;
    const char* text; // a part of the reason's text
};

std::vector<Row> rows() {
    return {
        {"DTD", [](ScriptedPeer& p, const Type&) { p.send("<!DOCTYPE stream>"); }, "restricted-xml",
         "a DTD is not allowed"},
        {"second header", [](ScriptedPeer& p, const Type& t) { p.send(t.header); }, "invalid-xml",
         "second stream header"},
        {"attributes", [](ScriptedPeer& p, const Type&) { p.send(many_attributes()); },
         "policy-violation", "attributes"},
        {"namespaces", [](ScriptedPeer& p, const Type&) { p.send(many_namespaces()); },
         "policy-violation", "namespace declarations"},
        {"trickle",
         [](ScriptedPeer& p, const Type&) {
             p.send("<message><body>");
             for (int i = 0; i < 40; ++i)
                 p.pause(100ms).send("x");
         },
         "policy-violation", "max_stanza_time"},
    };
}

bool received_ok(const Recorder& rec) {
    for (const auto& s : rec.seen) {
        if (s.name == ev::NODERECEIVED && s.node &&
            s.node->to_string().find("hostile-ok") != std::string::npos)
            return true;
    }
    return false;
}

} // namespace

TEST_CASE("hostile: every connection type ends a hostile stream at once with its reason",
          "[protocol][hostile]") {
    for (const Type& type : types()) {
        for (const Row& row : rows()) {
            CAPTURE(type.name, row.name);
            LoopFixture f;
            ScriptedPeer peer(f.loop());
            type.login(peer);
            // Something legitimate first: it must be delivered whatever follows.
            peer.send("<message id='hostile-ok'><body>before</body></message>");
            row.hostile(peer, type);
            peer.wait_close();
            Config cfg = type.config(peer.port());
            cfg.max_stanza_time = 1s;
            Component c(cfg, f.loop());
            Recorder rec(c);
            c.connect();
            const auto t0 = std::chrono::steady_clock::now();
            REQUIRE(f.run_until([&] { return ended(c); }, 10s));
            const auto took = std::chrono::steady_clock::now() - t0;
            INFO(failures(rec));
            REQUIRE(rec.has(ev::READY));
            CHECK(received_ok(rec));
            const Seen* sf = rec.last(ev::SOCKETFAIL);
            REQUIRE(sf);
            REQUIRE(sf->reason);
            CHECK(sf->reason->condition == row.condition);
            CHECK(sf->reason->text.find(row.text) != std::string::npos);
            // The peer is told why (RFC 6120 §4.9) before the stream is closed.
            const std::string told = std::string("<stream:error><") + row.condition;
            CHECK(f.run_until([&] { return received(peer, told); }, 2s));
            // At once: the trickle is cut at its limit, not when the peer gives up.
            CHECK(took < 3s);
        }
    }
}
