// Session state, roster and the event queue against real servers: the session's fields after a
// TLS + SCRAM login, the roster fetched at READY, a push caused by a second connection of the
// same account applied to the first session, and a login watched from another thread.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "configs.hpp"
#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "servers.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

ServerPool servers;

Config client_config(const TestServer& s, const std::string& resource) {
    Config c = c2s_config(s, ConnectionType::XMPP, resource);
    c.tls.policy = TlsPolicy::required;
    c.sasl.mechanisms = {"SCRAM-SHA-1"}; // offered by all three
    return c;
}

// An iq set jabber:iq:roster from `c` (RFC 6121 §2.3/§2.5), waiting for the server's answer.
void set_roster_item(LoopFixture& f, Component& c, const std::string& jid,
                     const std::string& subscription, const std::string& name) {
    Node item("item");
    item.set_attr("jid", jid);
    if (!subscription.empty()) {
        item.set_attr("subscription", subscription);
    }
    if (!name.empty()) {
        item.set_attr("name", name);
        item.add_child("group").set_text("pcj");
    }
    Node iq = build("iq")
                  .attr("type", "set")
                  .child(build("query", "jabber:iq:roster").child(std::move(item)));
    std::optional<Node> answer;
    c.return_to_sender(
        std::move(iq),
        [&](const Event& e) { answer = e.node != nullptr ? *e.node : Node("no-answer"); }, 5s);
    REQUIRE(f.run_until([&] { return answer.has_value(); }, 8s));
    INFO(answer->to_string());
    REQUIRE(answer->attr("type") == "result");
}

void roster_push_applied(ServerKind kind) {
    INFO(to_string(kind));
    TestServer& s = servers.get(kind);
    LoopFixture f;
    settle(f, kind);
    Config cfg = client_config(s, "pcj-first");
    cfg.roster_fetch = true;
    Component first(cfg, f.loop());
    Recorder rec(first);
    first.connect();
    REQUIRE(f.run_until([&] { return rec.has(ext::ROSTER_LOADED) || ended(first); }, 20s));
    INFO("events: " << join(rec.names()) << "\nfailures: " << failures(rec));
    REQUIRE(rec.has(ext::ROSTER_LOADED));
    CHECK_FALSE(rec.last(ext::ROSTER_LOADED)->reason);

    const Session& session = first.session();
    const std::string domain = s.get("DOMAIN");
    CHECK(session.type() == "c2s");
    CHECK(session.username() == s.get("USER"));
    CHECK(session.host() == domain);
    CHECK(session.resource() == "pcj-first");
    CHECK(session.full_jid() == s.get("USER") + "@" + domain + "/pcj-first");
    CHECK(session.open());
    CHECK(session.interested_resource());
    first.output(build("presence").child(build("priority").text("7")));
    CHECK(session.available_resource());
    CHECK(session.priority() == 7);

    // A second connection of the same account adds a contact: the server pushes it to the
    // first (an interested resource).
    settle(f, kind);
    Component second(client_config(s, "pcj-second"), f.loop());
    connect_ready(f, second, 20s);
    const std::string contact = s.get("USER2") + "@" + domain;
    const std::size_t pushes_before = rec.count(ext::ROSTER_PUSHED);
    set_roster_item(f, second, contact, "", "Second Account");
    REQUIRE(f.run_until([&] { return rec.count(ext::ROSTER_PUSHED) > pushes_before; }, 8s));
    REQUIRE(session.roster().count(contact) == 1);
    CHECK(session.roster().at(contact).name == "Second Account");
    CHECK(session.roster().at(contact).groups == std::vector<std::string>{"pcj"});
    const Seen* pushed = rec.last(ext::ROSTER_PUSHED);
    REQUIRE(pushed);
    REQUIRE(std::holds_alternative<RosterChange>(pushed->payload));
    CHECK(std::get<RosterChange>(pushed->payload).item.jid == contact);

    // And removes it again: the push with subscription='remove' deletes it.
    const std::size_t pushes_mid = rec.count(ext::ROSTER_PUSHED);
    set_roster_item(f, second, contact, "remove", "");
    REQUIRE(f.run_until([&] { return rec.count(ext::ROSTER_PUSHED) > pushes_mid; }, 8s));
    CHECK(session.roster().count(contact) == 0);
    for (const auto& seen : rec.seen) { // the pushes were the session's, not the application's
        const bool roster_iq = seen.name == ev::NODERECEIVED && seen.node &&
                               seen.node->child("query", "jabber:iq:roster") != nullptr;
        CHECK_FALSE(roster_iq);
    }

    second.shutdown();
    first.shutdown();
    REQUIRE(f.run_until([&] { return ended(first) && ended(second); }, 10s));
    CHECK_FALSE(session.open());
    CHECK_FALSE(session.connected_resource());
}

} // namespace

TEST_CASE("session servers: Prosody pushes a roster change made by another connection",
          "[integration][session][prosody]") {
    roster_push_applied(ServerKind::prosody);
}

TEST_CASE("session servers: ejabberd pushes a roster change made by another connection",
          "[integration][session][ejabberd]") {
    roster_push_applied(ServerKind::ejabberd);
}

TEST_CASE("session servers: jabberd2 pushes a roster change made by another connection",
          "[integration][session][jabberd2]") {
    roster_push_applied(ServerKind::jabberd2);
}

TEST_CASE("session servers: another thread follows a TLS + SCRAM login to Prosody through the "
          "event queue",
          "[integration][session][event_queue]") {
    TestServer& s = servers.get(ServerKind::prosody);
    LoopFixture f;
    Config cfg = client_config(s, "pcj-queue");
    cfg.sasl.mechanisms = {"SCRAM-SHA-256"};
    Component c(cfg, f.loop());
    EventQueue q(256);
    auto attached = q.attach(c, std::span<const std::string_view>(ev::all));
    std::vector<std::string> names;
    std::atomic<bool> reader_done{false};
    std::thread reader([&] {
        while (auto r = q.pop(20s)) {
            if (r->name != ev::NODESENT && r->name != ev::NODERECEIVED &&
                r->name != ev::RTS_START && r->name != ev::RTS_FINISH) {
                names.push_back(r->name);
            }
            if (r->name == ev::READY) {
                break;
            }
        }
        reader_done = true;
    });
    c.connect();
    const bool finished = f.run_until([&] { return reader_done.load() || ended(c); }, 20s);
    if (!finished) {
        q.close();
    }
    reader.join();
    REQUIRE(finished);
    CHECK(join(names) == "PCJ_CONNECT PCJ_CONNECTING PCJ_CONNECTED PCJ_STREAMSTART "
                         "PCJ_SSLNEGOTIATE PCJ_SSLSUCCESS PCJ_STREAMSTART PCJ_AUTHNEGOTIATE "
                         "PCJ_AUTHSUCCESS PCJ_STREAMSTART PCJ_BINDNEGOTIATE PCJ_BINDSUCCESS "
                         "PCJ_READY"); // Prosody 0.12 marks the session <optional/>
    CHECK(q.dropped() == 0);
    shutdown_and_wait(f, c, 8s);
    attached.cancel();
}
