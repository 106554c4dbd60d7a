// PendingTable: return_to_sender ids never collide with a pending one; deadlines expire in order.
#include <catch2/catch.hpp>

#include <set>

#include "pending.hpp"

using namespace pcj;
using namespace pcj::detail;
using namespace std::chrono_literals;

TEST_CASE("pending: a node without an id gets a fresh one", "[pending]") {
    PendingTable t;
    Node a("iq");
    const std::string id = t.add(a, {});
    CHECK_FALSE(id.empty());
    CHECK(a.attr("id") == id);
    CHECK(t.contains(id));
}

TEST_CASE("pending: a caller's own free id is kept", "[pending]") {
    PendingTable t;
    Node a("iq");
    a.set_attr("id", "my-own-id-1");
    CHECK(t.add(a, {}) == "my-own-id-1");
}

TEST_CASE("pending: a duplicate id gets a new one and both requests keep their replies",
          "[pending]") {
    PendingTable t;
    Node a("iq"), b("iq");
    a.set_attr("id", "dup");
    b.set_attr("id", "dup");
    PendingRequest ra;
    ra.event = "rts_a";
    PendingRequest rb;
    rb.event = "rts_b";
    const std::string ida = t.add(a, ra);
    const std::string idb = t.add(b, rb);
    CHECK(ida == "dup");
    CHECK(idb != "dup");
    CHECK(b.attr("id") == idb); // the wire carries the id the table holds (doc/origins.md, bug 4)
    auto first = t.take("dup");
    REQUIRE(first);
    CHECK(first->event == "rts_a");
    auto second = t.take(idb);
    REQUIRE(second);
    CHECK(second->event == "rts_b");
    CHECK(t.empty());
}

TEST_CASE("pending: generated ids are unique across many requests", "[pending]") {
    PendingTable t;
    std::set<std::string> seen;
    for (int i = 0; i < 10000; ++i) {
        Node n("iq");
        seen.insert(t.add(n, {}));
    }
    CHECK(seen.size() == 10000);
    CHECK(t.size() == 10000);
}

TEST_CASE("pending: deadlines expire earliest first and only when due", "[pending]") {
    PendingTable t;
    const auto now = PendingTable::Clock::now();
    Node a("iq"), b("iq"), c("iq");
    PendingRequest late;
    late.deadline = now + 200ms;
    PendingRequest early;
    early.deadline = now + 100ms;
    const std::string idl = t.add(a, late);
    const std::string ide = t.add(b, early);
    const std::string idn = t.add(c, {}); // no deadline
    REQUIRE(t.next_deadline());
    CHECK(*t.next_deadline() == now + 100ms);
    CHECK(t.take_expired(now + 50ms).empty());
    auto expired = t.take_expired(now + 150ms);
    REQUIRE(expired.size() == 1);
    CHECK(expired[0].first == ide);
    expired = t.take_expired(now + 1s);
    REQUIRE(expired.size() == 1);
    CHECK(expired[0].first == idl);
    CHECK(t.contains(idn));
    CHECK_FALSE(t.next_deadline());
}

TEST_CASE("pending: a reply taken before its deadline is not expired later", "[pending]") {
    PendingTable t;
    const auto now = PendingTable::Clock::now();
    Node a("iq");
    PendingRequest r;
    r.deadline = now + 10ms;
    const std::string id = t.add(a, r);
    REQUIRE(t.take(id));
    CHECK(t.take_expired(now + 1s).empty());
    CHECK_FALSE(t.next_deadline());
}

TEST_CASE("pending: on disconnect only sent requests are taken; queued ones stay", "[pending]") {
    PendingTable t;
    Node a("iq"), b("iq");
    PendingRequest sent;
    sent.sent = true;
    const std::string ids = t.add(a, sent);
    const std::string idq = t.add(b, {});
    auto lost = t.take_sent();
    REQUIRE(lost.size() == 1);
    CHECK(lost[0].first == ids);
    CHECK(t.contains(idq));
    CHECK(t.snapshot().count(idq) == 1);
}
