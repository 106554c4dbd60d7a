// The reconnect policy's arithmetic and its failure classes, with a scripted random source: no
// clock, no sleeps.
#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "reconnect_policy.hpp"

using namespace std::chrono_literals;
using pcj::detail::Backoff;
using pcj::detail::classify_failure;
using pcj::detail::FailureKind;

namespace {

pcj::ReconnectConfig policy(unsigned max_attempts = 0) {
    pcj::ReconnectConfig c;
    c.enabled = true;
    c.initial_delay = 100ms;
    c.max_delay = 1'000ms;
    c.multiplier = 2.0;
    c.max_attempts = max_attempts;
    return c;
}

} // namespace

TEST_CASE("backoff bounds grow by the multiplier and stop at the cap", "[reconnect]") {
    Backoff backoff(policy(), [] { return 0.999999; }); // always near the top of the range
    std::vector<long> delays;
    for (int i = 0; i < 7; ++i) {
        delays.push_back(static_cast<long>(backoff.next()->count()));
    }
    CHECK(delays == std::vector<long>{99, 199, 399, 799, 999, 999, 999});
    CHECK(backoff.attempt() == 7);
}

TEST_CASE("backoff draws the whole range below its bound (full jitter)", "[reconnect]") {
    std::vector<double> draws{0.0, 0.5, 0.25};
    std::size_t i = 0;
    Backoff backoff(policy(), [&] { return draws[i++]; });
    CHECK(*backoff.next() == 0ms);   // [0, 100)
    CHECK(*backoff.next() == 100ms); // half of 200
    CHECK(*backoff.next() == 100ms); // a quarter of 400
}

TEST_CASE("min_delay is a floor under every delay, the bound still grows above it", "[reconnect]") {
    pcj::ReconnectConfig c = policy();
    c.min_delay = 150ms; // above the first bound (100 ms), below the later ones
    std::vector<double> draws{0.0, 0.999999, 0.0, 0.5, 0.999999};
    std::size_t i = 0;
    Backoff backoff(c, [&] { return draws[i++]; });
    CHECK(*backoff.next() == 150ms); // bound 100 ms < floor: the floor itself
    CHECK(*backoff.next() == 199ms); // [150, 200]: the top
    CHECK(*backoff.next() == 150ms); // [150, 400]: the bottom
    CHECK(*backoff.next() == 475ms); // [150, 800]: the middle
    CHECK(*backoff.next() == 999ms); // [150, 1000]: the top, below the cap
}

TEST_CASE("the default random source spreads delays and keeps them in range", "[reconnect]") {
    pcj::ReconnectConfig c = policy();
    c.initial_delay = 10'000ms;
    c.max_delay = 10'000ms;
    Backoff backoff(c);
    std::vector<std::chrono::milliseconds> seen;
    for (int n = 0; n < 50; ++n) {
        const auto d = *backoff.next();
        REQUIRE(d >= 0ms);
        REQUIRE(d <= 10'000ms);
        seen.push_back(d);
    }
    std::sort(seen.begin(), seen.end());
    // 50 draws from [0, 10 s) spread over more than a second unless the source is broken.
    CHECK(seen.back() - seen.front() > 1'000ms);
}

TEST_CASE("backoff gives up after max_attempts and starts over after reset", "[reconnect]") {
    Backoff backoff(policy(3), [] { return 0.5; });
    CHECK(backoff.next().has_value());
    CHECK(backoff.next().has_value());
    CHECK(backoff.next().has_value());
    CHECK_FALSE(backoff.next().has_value());
    backoff.reset();
    CHECK(backoff.attempt() == 0);
    CHECK(*backoff.next() == 50ms);
}

TEST_CASE("a huge number of attempts cannot overflow the delay", "[reconnect]") {
    Backoff backoff(policy(), [] { return 0.999999; });
    for (int i = 0; i < 5'000; ++i) {
        REQUIRE(*backoff.next() <= 1'000ms);
    }
}

TEST_CASE("failures are classified by stream condition first, then by event", "[reconnect]") {
    auto reason = [](std::string condition) {
        pcj::Reason r;
        r.condition = std::move(condition);
        return r;
    };
    using pcj::ev::AUTHFAIL;
    using pcj::ev::CONNECTFAIL;
    using pcj::ev::SOCKETFAIL;
    using pcj::ev::SSLFAIL;

    const auto refused = reason("ECONNREFUSED");
    CHECK(classify_failure(CONNECTFAIL, &refused) == FailureKind::transient);
    CHECK(classify_failure(SOCKETFAIL, nullptr) == FailureKind::transient);
    const auto shutdown = reason("system-shutdown");
    CHECK(classify_failure(pcj::ev::SHUTDOWN_START, &shutdown) == FailureKind::transient);
    const auto other_host = reason("see-other-host");
    CHECK(classify_failure(AUTHFAIL, &other_host) == FailureKind::transient);

    const auto wrong_password = reason("not-authorized");
    CHECK(classify_failure(AUTHFAIL, &wrong_password) == FailureKind::fatal);
    const auto unknown_host = reason("host-unknown");
    CHECK(classify_failure(pcj::ev::STREAMSTART, &unknown_host) == FailureKind::fatal);
    const auto bad_chain = reason(std::string(pcj::net::SSL_INVALID_CHAIN));
    CHECK(classify_failure(SSLFAIL, &bad_chain) == FailureKind::fatal);
    const auto conflict = reason("conflict");
    CHECK(classify_failure(pcj::ev::BINDFAIL, &conflict) == FailureKind::fatal);
    CHECK(classify_failure(AUTHFAIL, nullptr) == FailureKind::fatal);
    const auto handshake_failed = reason("ssl_failed");
    CHECK(classify_failure(SSLFAIL, &handshake_failed) == FailureKind::transient);
    // A negotiation that timed out (a server that stopped answering) is not a rejection, even
    // when the stage that timed out reports it as an authentication failure.
    const auto timed_out = reason("timeout");
    CHECK(classify_failure(AUTHFAIL, &timed_out) == FailureKind::transient);
}
