// TokenBucket: the send rate limit's arithmetic, with the time given by the test.
#include <catch2/catch.hpp>

#include "token_bucket.hpp"

using pcj::detail::TokenBucket;
using namespace std::chrono_literals;

TEST_CASE("token bucket: a second's worth leaves at once, then the rate paces the rest",
          "[unit][unattended][rate]") {
    const auto t0 = TokenBucket::Clock::time_point{} + 1h;
    TokenBucket b(10, 0, t0); // 10 stanzas per second, no byte limit
    REQUIRE(b.limited());
    for (int i = 0; i < 10; ++i) {
        REQUIRE(b.wait(100, t0) == 0ms);
        b.take(100);
    }
    CHECK(b.wait(100, t0) == 100ms);
    // Rounded up to whole milliseconds, from floating-point refills: ±1 ms.
    const auto after_40 = b.wait(100, t0 + 40ms);
    CHECK(after_40 >= 60ms);
    CHECK(after_40 <= 61ms);
    CHECK(b.wait(100, t0 + 101ms) == 0ms);
    b.take(100);
    const auto next = b.wait(100, t0 + 101ms);
    CHECK(next >= 99ms);
    CHECK(next <= 100ms);
    // Idle for long: the bucket fills to its capacity, not beyond.
    for (int i = 0; i < 10; ++i) {
        REQUIRE(b.wait(100, t0 + 10s) == 0ms);
        b.take(100);
    }
    CHECK(b.wait(100, t0 + 10s) == 100ms);
}

TEST_CASE("token bucket: bytes per second, and a stanza larger than a second's worth",
          "[unit][unattended][rate]") {
    const auto t0 = TokenBucket::Clock::time_point{} + 1h;
    TokenBucket b(0, 1000, t0); // 1,000 bytes per second
    REQUIRE(b.wait(600, t0) == 0ms);
    b.take(600);
    CHECK(b.wait(600, t0) == 200ms); // 400 left, 200 more at 1,000/s
    // 5,000 bytes cannot wait for 5,000 tokens: it leaves with a full bucket…
    CHECK(b.wait(5000, t0 + 600ms) == 0ms);
    b.take(5000);
    // …and the debt (−4,000) is waited out by the next one: 4,100 bytes to 100.
    CHECK(b.wait(100, t0 + 600ms) == 4100ms);
    CHECK_FALSE(TokenBucket(0, 0, t0).limited());
    CHECK(TokenBucket(0, 0, t0).wait(1'000'000, t0) == 0ms);
}
