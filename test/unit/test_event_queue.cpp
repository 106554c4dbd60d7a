// EventQueue: owned copies in order, the bound and its drop count, timeouts, close, and the
// lifetime rules between the loop thread and the threads that drain it.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "loop_fixture.hpp"
#include "pcj/pcj.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

Config quiet_config() {
    Config c;
    c.connection_type = ConnectionType::JABBERD14_COMPONENT;
    c.ip = "127.0.0.1";
    c.port = 5347;
    c.hostname = "component.localhost";
    c.password = "secret";
    return c;
}

void publish(Component& c, std::string_view name, const Node* node = nullptr,
             const Reason* reason = nullptr, const Payload* payload = nullptr) {
    Event e;
    e.name = name;
    e.node = node;
    e.reason = reason;
    e.payload = payload;
    c.events().publish(e);
}

} // namespace

TEST_CASE("event queue: records are owned copies of each event, in publish order",
          "[event_queue][records]") {
    LoopFixture f;
    Component c(quiet_config(), f.loop());
    EventQueue q(16);
    auto attached = q.attach(c, {net::READ, ext::ROSTER_LOADED, sock::PACKET_READ});
    {
        Node node = build("iq").attr("id", "r1").attr("type", "result");
        Reason reason{"roster", 0, "timeout", "no reply"};
        Payload payload = Traffic{12, 340};
        publish(c, net::READ, nullptr, nullptr, &payload);
        publish(c, ext::ROSTER_LOADED, &node, &reason);
        SocketRecord rec;
        rec.code = Code::packet_read;
        rec.source = Source::socket;
        rec.bytes = 7;
        Payload sock_payload = rec;
        publish(c, sock::PACKET_READ, nullptr, nullptr, &sock_payload);
    } // everything the events pointed to is gone now

    REQUIRE(q.size() == 3);
    auto first = q.try_pop();
    REQUIRE(first);
    CHECK(first->name == net::READ);
    CHECK(first->component_id == c.id());
    CHECK(first->connection_id == c.connection_id());
    REQUIRE(std::get_if<Traffic>(&first->payload));
    CHECK(std::get<Traffic>(first->payload).total == 340);
    CHECK_FALSE(first->node);

    auto second = q.try_pop();
    REQUIRE(second);
    CHECK(second->name == ext::ROSTER_LOADED);
    REQUIRE(second->node);
    CHECK(second->node->attr("id") == "r1");
    REQUIRE(second->reason);
    CHECK(second->reason->condition == "timeout");
    CHECK(std::holds_alternative<std::monostate>(second->payload));

    auto third = q.try_pop();
    REQUIRE(third);
    CHECK(std::get<SocketRecord>(third->payload).bytes == 7);
    CHECK_FALSE(q.try_pop());
}

TEST_CASE("event queue: only the events asked for are queued, or all with attach_all",
          "[event_queue][subscribe]") {
    LoopFixture f;
    Component c(quiet_config(), f.loop());
    EventQueue named;
    EventQueue everything;
    auto a = named.attach(c, std::span<const std::string_view>(sock::all));
    auto b = everything.attach_all(c);
    CHECK(c.events().wanted(sock::PACKET_SENT));
    CHECK_FALSE(c.events().subscriber_count(net::WRITE) > 0);
    publish(c, net::WRITE);
    publish(c, sock::PACKET_SENT);
    publish(c, ev::READY);
    CHECK(named.size() == 1);
    CHECK(named.try_pop()->name == sock::PACKET_SENT);
    CHECK(everything.size() == 3);
}

TEST_CASE("event queue: a full queue drops the newest records and counts them",
          "[event_queue][bound]") {
    LoopFixture f;
    Component c(quiet_config(), f.loop());
    EventQueue q(3);
    auto attached = q.attach(c, {net::READ});
    for (int i = 0; i < 5; ++i) {
        Payload p = Traffic{static_cast<std::uint64_t>(i), 0};
        publish(c, net::READ, nullptr, nullptr, &p);
    }
    CHECK(q.capacity() == 3);
    CHECK(q.size() == 3);
    CHECK(q.dropped() == 2);
    for (std::uint64_t i = 0; i < 3; ++i) {
        auto r = q.try_pop();
        REQUIRE(r);
        CHECK(std::get<Traffic>(r->payload).bytes == i); // the oldest were kept
    }
    Payload p = Traffic{9, 0};
    publish(c, net::READ, nullptr, nullptr, &p); // room again
    CHECK(q.size() == 1);
    CHECK(q.dropped() == 2);
}

TEST_CASE("event queue: pop waits for the timeout when nothing arrives", "[event_queue][timeout]") {
    EventQueue q;
    const auto start = std::chrono::steady_clock::now();
    auto r = q.pop(120ms);
    const auto waited = std::chrono::steady_clock::now() - start;
    CHECK_FALSE(r);
    CHECK(waited >= 120ms);
    CHECK(waited < 5s);
    CHECK_FALSE(q.try_pop());
}

TEST_CASE("event queue: a record published on the loop thread wakes a blocked pop",
          "[event_queue][threads]") {
    LoopFixture f;
    Component c(quiet_config(), f.loop());
    EventQueue q;
    auto attached = q.attach(c, {ev::READY});
    std::optional<QueuedEvent> got;
    std::thread reader([&] { got = q.pop(10s); });
    std::this_thread::sleep_for(50ms);
    publish(c, ev::READY);
    reader.join();
    REQUIRE(got);
    CHECK(got->name == ev::READY);
}

TEST_CASE("event queue: close wakes every blocked pop and refuses later records",
          "[event_queue][close]") {
    LoopFixture f;
    Component c(quiet_config(), f.loop());
    EventQueue q;
    auto attached = q.attach(c, {ev::READY, ev::CONNECT});
    publish(c, ev::CONNECT);
    CHECK(q.try_pop()); // drained before the readers start
    std::atomic<int> woken{0};
    std::vector<std::thread> readers;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i) {
        readers.emplace_back([&] {
            if (!q.pop(30s)) {
                ++woken;
            }
        });
    }
    std::this_thread::sleep_for(50ms);
    q.close();
    for (auto& t : readers) {
        t.join();
    }
    CHECK(woken == 3);
    CHECK(std::chrono::steady_clock::now() - start < 10s);
    CHECK(q.closed());
    publish(c, ev::READY);
    CHECK(q.size() == 0);
    CHECK(q.dropped() == 0); // refused because closed, not dropped because full
    CHECK_FALSE(q.pop());    // no wait once closed
}

TEST_CASE("event queue: what was queued before close is still popped, then nothing",
          "[event_queue][close]") {
    LoopFixture f;
    Component c(quiet_config(), f.loop());
    EventQueue q;
    auto attached = q.attach(c, {ev::READY});
    publish(c, ev::READY);
    publish(c, ev::READY);
    q.close();
    CHECK(q.pop(1s));
    CHECK(q.pop());
    CHECK_FALSE(q.pop(1s));
}

TEST_CASE("event queue: a cancelled attachment queues nothing more and unsubscribes",
          "[event_queue][lifetime]") {
    LoopFixture f;
    Component c(quiet_config(), f.loop());
    EventQueue q;
    auto attached = q.attach(c, {ev::READY});
    CHECK(attached.active());
    CHECK(c.events().subscriber_count(ev::READY) == 1);
    attached.cancel();
    CHECK_FALSE(attached.active());
    CHECK(c.events().subscriber_count(ev::READY) == 0);
    publish(c, ev::READY);
    CHECK(q.size() == 0);
}

TEST_CASE("event queue: an attachment destroyed on another thread only switches its handler off",
          "[event_queue][lifetime]") {
    LoopFixture f;
    Component c(quiet_config(), f.loop());
    EventQueue q;
    auto attached = q.attach(c, {ev::READY});
    std::thread other([a = std::move(attached)]() mutable { a.cancel(); });
    other.join();
    publish(c, ev::READY);
    CHECK(q.size() == 0);
    // The PubSub was not touched from the other thread: the inert handler is still registered.
    CHECK(c.events().subscriber_count(ev::READY) == 1);
}

TEST_CASE("event queue: the queue may be destroyed on another thread while the component lives",
          "[event_queue][lifetime]") {
    LoopFixture f;
    Component c(quiet_config(), f.loop());
    auto q = std::make_unique<EventQueue>(8);
    auto attached = q->attach(c, {ev::READY});
    publish(c, ev::READY);
    std::thread other([q = std::move(q)]() mutable { q.reset(); });
    other.join();
    publish(c, ev::READY); // goes to the shared state nobody reads: discarded, no crash
    CHECK(attached.active());
    attached.cancel();
    CHECK(c.events().subscriber_count(ev::READY) == 0);
}

TEST_CASE("event queue: a reader thread receives every record in order while the loop publishes",
          "[event_queue][threads]") {
    LoopFixture f;
    Component c(quiet_config(), f.loop());
    constexpr std::uint64_t count = 20'000;
    EventQueue q(256);
    auto attached = q.attach(c, {net::READ});
    std::vector<std::uint64_t> seen;
    std::thread reader([&] {
        while (auto r = q.pop(10s)) {
            seen.push_back(std::get<Traffic>(r->payload).bytes);
        }
    });
    std::uint64_t published = 0;
    while (published < count) {
        if (q.size() < q.capacity()) { // keep it from dropping: this test is about order
            Payload p = Traffic{published++, 0};
            publish(c, net::READ, nullptr, nullptr, &p);
        } else {
            std::this_thread::yield();
        }
    }
    q.close();
    reader.join();
    REQUIRE(seen.size() == count);
    bool ordered = true;
    for (std::uint64_t i = 0; i < count; ++i) {
        ordered = ordered && seen[i] == i;
    }
    CHECK(ordered);
    CHECK(q.dropped() == 0);
}
