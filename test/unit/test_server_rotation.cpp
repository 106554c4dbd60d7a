// ServerRotation: the order of Config::servers per round, listed or shuffled with a scripted
// random source, and where the next round starts.
#include <catch2/catch.hpp>

#include <vector>

#include "server_rotation.hpp"

using pcj::ServerAddress;
using pcj::detail::ServerRotation;

namespace {
const std::vector<ServerAddress> three{{"a", 1}, {"b", 2}, {"c", 3}};
}

TEST_CASE("servers: the listed order, one after another, then the round is over", "[servers]") {
    ServerRotation r;
    r.start(three, false);
    CHECK(r.order() == std::vector<std::size_t>{0, 1, 2});
    CHECK(r.current().host == "a");
    REQUIRE(r.advance());
    CHECK(r.choice().index == 1);
    CHECK(r.choice().tried == 1);
    CHECK(r.choice().count == 3);
    REQUIRE(r.advance());
    CHECK_FALSE(r.has_next());
    CHECK_FALSE(r.advance());
    CHECK(r.current().host == "c");
    r.restart();
    CHECK(r.current().host == "a"); // a failed round starts again at the first
}

TEST_CASE("servers: after a connection ends, the next round starts at the server in use",
          "[servers]") {
    ServerRotation r;
    r.start(three, false);
    r.advance(); // "b" is in use
    r.restart_from_current();
    CHECK(r.order() == std::vector<std::size_t>{1, 2, 0});
    CHECK(r.choice().tried == 0);
    CHECK(r.current().host == "b");
}

TEST_CASE("servers: after a failed negotiation, the next round starts after the server in use",
          "[servers]") {
    ServerRotation r;
    r.start(three, false);
    r.advance(); // "b" took the connection and never answered
    r.restart_from_next();
    CHECK(r.order() == std::vector<std::size_t>{2, 0, 1});
    r.advance();
    r.advance(); // the last of the round, "b"
    r.restart_from_next();
    CHECK(r.order() == std::vector<std::size_t>{2, 0, 1}); // wraps round to the first
}

TEST_CASE("servers: shuffled, every round is a permutation drawn from the random source",
          "[servers]") {
    // Fisher-Yates from the end: u = 0 swaps each place with the first one.
    ServerRotation zero([] { return 0.0; });
    zero.start(three, true);
    CHECK(zero.order() == std::vector<std::size_t>{1, 2, 0});
    // u just below 1 leaves every element where it is.
    ServerRotation top([] { return 0.999; });
    top.start(three, true);
    CHECK(top.order() == std::vector<std::size_t>{0, 1, 2});
    // The default source: every order is a permutation, and over many rounds each server is
    // first sometimes.
    ServerRotation any;
    any.start(three, true);
    std::vector<int> first(3, 0);
    for (int i = 0; i < 300; ++i) {
        any.restart();
        auto order = any.order();
        std::sort(order.begin(), order.end());
        REQUIRE(order == std::vector<std::size_t>{0, 1, 2});
        ++first[any.order()[0]];
    }
    for (const int n : first) {
        CHECK(n > 30);
    }
}
