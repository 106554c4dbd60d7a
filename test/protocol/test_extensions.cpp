// Extensions against a scripted peer: dispatch order and consumption, attach and detach rules
// (XEP-0030 is in test_disco.cpp, XEP-0199 in test_ping.cpp).
#include <catch2/catch.hpp>

#include <algorithm>

#include "configs.hpp"
#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "scripted_peer.hpp"
#include "scripts.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

// An extension that records what it is offered and consumes when told to.
class Probe : public Extension {
public:
    Probe(std::string name, std::vector<StanzaMatch> matches, bool consume,
          std::vector<std::string>& log)
        : name_(std::move(name)), matches_(std::move(matches)), consume_(consume), log_(log) {}

    std::string_view name() const override { return name_; }
    std::vector<StanzaMatch> handles() const override { return matches_; }
    void attached(Component&) override { log_.push_back(name_ + ":attached"); }
    void detached(Component&) override { log_.push_back(name_ + ":detached"); }
    bool on_stanza(Component& c, const Node& stanza) override {
        log_.push_back(name_ + ":" + stanza.attr("id"));
        last_name = stanza.name();
        if (on_stanza_hook) {
            on_stanza_hook(c);
        }
        return consume_;
    }

    std::function<void(Component&)> on_stanza_hook;
    std::string last_name;

private:
    std::string name_;
    std::vector<StanzaMatch> matches_;
    bool consume_;
    std::vector<std::string>& log_;
};

std::vector<std::string> received_ids(const Recorder& rec) {
    std::vector<std::string> ids;
    for (const auto& s : rec.seen) {
        if (s.name == ev::NODERECEIVED) {
            ids.push_back(s.node->attr("id"));
        }
    }
    return ids;
}

} // namespace

// -- the extension interface -------------------------------------------------------------------

TEST_CASE("extensions: a second extension with the same name, or one attached elsewhere, is "
          "refused; detach reports whether there was one",
          "[protocol][extensions]") {
    LoopFixture f;
    std::vector<std::string> log;
    Component a(j14_config(1), f.loop());
    Component b(j14_config(1), f.loop());
    auto first = std::make_shared<Probe>("x", std::vector<StanzaMatch>{}, false, log);
    a.attach(first);
    CHECK(first->is_attached());
    CHECK(a.extension("x") == first.get());
    CHECK_THROWS_AS(a.attach(std::make_shared<Probe>("x", std::vector<StanzaMatch>{}, false, log)),
                    Error);
    CHECK_THROWS_AS(b.attach(first), Error); // one component at a time
    CHECK(b.extension("x") == nullptr);
    CHECK_THROWS_AS(a.attach(nullptr), Error);
    CHECK(a.detach("x"));
    CHECK_FALSE(a.detach("x"));
    CHECK_FALSE(first->is_attached());
    b.attach(first); // free again
    CHECK(b.extension("x") == first.get());
    CHECK(log == std::vector<std::string>{"x:attached", "x:detached", "x:attached"});
}

TEST_CASE("extensions: an attach whose attached() throws leaves nothing behind",
          "[protocol][extensions]") {
    struct Refuses : Extension {
        std::string_view name() const override { return "refuses"; }
        std::vector<StanzaMatch> handles() const override { return {}; }
        void attached(Component&) override { throw Error("no"); }
        bool on_stanza(Component&, const Node&) override { return false; }
    };
    LoopFixture f;
    Component c(j14_config(1), f.loop());
    auto ext = std::make_shared<Refuses>();
    CHECK_THROWS_AS(c.attach(ext), Error);
    CHECK(c.extension("refuses") == nullptr);
    CHECK_FALSE(ext->is_attached());
}

TEST_CASE("extensions: stanzas are offered in attach order until one consumes them; the rest "
          "reach PCJ_NODERECEIVED",
          "[protocol][extensions][dispatch]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .send("<message id='m1' to='component.localhost'><body>x</body></message>")
        .send("<iq type='set' id='q1' to='component.localhost'><q xmlns='urn:test:a'/></iq>")
        .send("<iq type='get' id='q2' to='component.localhost'><q xmlns='urn:test:b'/></iq>")
        .send("<presence id='p1' to='component.localhost'/>")
        .send("<message id='end'/>")
        .expect("</stream:stream>")
        .close();
    std::vector<std::string> log;
    Component c(j14_config(peer.port()), f.loop());
    Recorder rec(c);
    // "all" sees iqs but never consumes; "a" consumes sets in urn:test:a; "b" wants gets in
    // urn:test:b but comes after "a"; "msg" consumes messages.
    c.attach(std::make_shared<Probe>("all", std::vector<StanzaMatch>{{"iq", "", ""}}, false, log));
    c.attach(std::make_shared<Probe>("a", std::vector<StanzaMatch>{{"iq", "set", "urn:test:a"}},
                                     true, log));
    c.attach(std::make_shared<Probe>("b", std::vector<StanzaMatch>{{"iq", "get", "urn:test:b"}},
                                     false, log));
    c.attach(
        std::make_shared<Probe>("msg", std::vector<StanzaMatch>{{"message", "", ""}}, true, log));
    log.clear();
    connect_ready(f, c);
    REQUIRE(f.run_until([&] {
        return rec.has(ev::NODERECEIVED) && rec.last(ev::NODERECEIVED)->node->attr("id") == "p1";
    }));
    f.run_for(50ms);
    CHECK(log == std::vector<std::string>{"msg:m1", "all:q1", "a:q1", "all:q2", "b:q2", "msg:end"});
    // Consumed: m1, q1, end. Offered but left: q2. Offered to nobody: p1.
    CHECK(received_ids(rec) == std::vector<std::string>{"q2", "p1"});
    shutdown_and_wait(f, c);
}

TEST_CASE("extensions: an extension detached by an earlier one during dispatch is not offered "
          "the stanza; one attached during dispatch waits for the next",
          "[protocol][extensions][dispatch]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    handshake(peer)
        .send("<message id='m1'/>")
        .send("<message id='m2'/>")
        .expect("</stream:stream>")
        .close();
    std::vector<std::string> log;
    Component c(j14_config(peer.port()), f.loop());
    Recorder rec(c);
    auto first =
        std::make_shared<Probe>("first", std::vector<StanzaMatch>{{"message", "", ""}}, false, log);
    auto second =
        std::make_shared<Probe>("second", std::vector<StanzaMatch>{{"message", "", ""}}, true, log);
    auto late =
        std::make_shared<Probe>("late", std::vector<StanzaMatch>{{"message", "", ""}}, false, log);
    first->on_stanza_hook = [&](Component& comp) {
        if (comp.extension("second") != nullptr) {
            comp.detach("second");
            comp.attach(late);
        }
    };
    c.attach(first);
    c.attach(second);
    log.clear();
    connect_ready(f, c);
    REQUIRE(f.run_until([&] { return rec.count(ev::NODERECEIVED) == 2; }));
    CHECK(log == std::vector<std::string>{"first:m1", "second:detached", "late:attached",
                                          "first:m2", "late:m2"});
    CHECK(received_ids(rec) == std::vector<std::string>{"m1", "m2"});
    shutdown_and_wait(f, c);
}

TEST_CASE("extensions: a jabberd2 route is matched on the stanza inside and handed over whole",
          "[protocol][extensions][j2]") {
    const std::string ns(jabberd2_component_ns);
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    j2_login(peer)
        .send("<route xmlns='" + ns +
              "' from='localhost' to='user.localhost'>"
              "<iq xmlns='jabber:client' type='set' id='r1'><q xmlns='urn:test:a'/></iq></route>")
        .expect("</stream:stream>")
        .close();
    std::vector<std::string> log; // outlives the component, whose destructor detaches
    Component c(j2_config(peer.port()), f.loop());
    auto probe = std::make_shared<Probe>("a", std::vector<StanzaMatch>{{"iq", "set", "urn:test:a"}},
                                         true, log);
    c.attach(probe);
    Recorder rec(c);
    connect_ready(f, c);
    REQUIRE(f.run_until([&] { return log.size() == 2; }));
    // Given the route itself (which has no id of its own), consumed.
    CHECK(log.back() == "a:");
    CHECK(probe->last_name == "route");
    f.run_for(50ms);
    CHECK_FALSE(rec.has(ev::NODERECEIVED));
    shutdown_and_wait(f, c);
}
