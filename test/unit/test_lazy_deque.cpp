// LazyDeque: the queues of a connection hold no memory until used, and give it back when an idle
// connection's quiet timer finds them empty.
#include <catch2/catch.hpp>

#include <string>

#include "lazy_deque.hpp"

using pcj::detail::LazyDeque;

TEST_CASE("LazyDeque holds nothing until something is put in it", "[lazy_deque]") {
    LazyDeque<std::string> q;
    CHECK(q.empty());
    CHECK(q.size() == 0);
    CHECK_FALSE(q.holds_memory());
    CHECK(q.view().empty());
    CHECK_FALSE(q.holds_memory()); // reading does not make it
    q.release_if_empty();
    CHECK_FALSE(q.holds_memory());
}

TEST_CASE("LazyDeque keeps the order of a deque", "[lazy_deque]") {
    LazyDeque<std::string> q;
    q.push_back("b");
    q.push_back("c");
    q.push_front("a");
    REQUIRE(q.size() == 3);
    CHECK(q.front() == "a");
    CHECK(q[2] == "c");
    CHECK(q.view().back() == "c");
    q.pop_front();
    CHECK(q.front() == "b");
    q.release_if_empty(); // not empty: nothing is lost
    REQUIRE(q.size() == 2);
    CHECK(q.front() == "b");
    q.pop_front();
    q.pop_front();
    CHECK(q.empty());
    CHECK(q.holds_memory()); // emptied by pops: kept until released
    q.release_if_empty();
    CHECK_FALSE(q.holds_memory());
    q.push_back("again");
    CHECK(q.front() == "again");
}

TEST_CASE("LazyDeque::take hands everything over and frees it; clear frees it", "[lazy_deque]") {
    LazyDeque<int> q;
    for (int i = 0; i < 1000; ++i) {
        q.push_back(i);
    }
    const std::deque<int> all = q.take();
    REQUIRE(all.size() == 1000);
    CHECK(all.front() == 0);
    CHECK(all.back() == 999);
    CHECK(q.empty());
    CHECK_FALSE(q.holds_memory());
    CHECK(q.take().empty());
    q.get().push_back(7);
    CHECK(q.size() == 1);
    q.clear();
    CHECK(q.empty());
    CHECK_FALSE(q.holds_memory());
}
