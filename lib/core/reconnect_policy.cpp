// ReconnectPolicy: failure classes and the jittered, capped exponential backoff.
#include "reconnect_policy.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

namespace pcj::detail {

namespace {

// Stream error conditions (RFC 6120 §4.9.3) after which the same connection attempt can only
// fail again: the configuration or the account must change first.
constexpr std::array<std::string_view, 12> fatal_conditions = {
    "bad-format",        "bad-namespace-prefix", "conflict",
    "host-unknown",      "improper-addressing",  "invalid-from",
    "invalid-namespace", "not-authorized",       "policy-violation",
    "restricted-xml",    "unsupported-encoding", "unsupported-version",
};

// Stream error conditions that say "later" or "elsewhere", and pcj's own "timeout" (the
// negotiation did not finish within negotiation_timeout: a server that accepted the connection
// and then stopped answering is not a rejected credential, whichever stage's event reports it).
constexpr std::array<std::string_view, 10> transient_conditions = {
    "connection-timeout",
    "host-gone",
    "internal-server-error",
    "remote-connection-failed",
    "reset",
    "resource-constraint",
    "see-other-host",
    "system-shutdown",
    "undefined-condition",
    "timeout",
};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& set, std::string_view value) {
    return std::find(set.begin(), set.end(), value) != set.end();
}

double default_uniform() {
    static thread_local std::mt19937_64 engine{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

} // namespace

std::string_view to_string(FailureKind kind) {
    return kind == FailureKind::fatal ? "fatal" : "transient";
}

FailureKind classify_failure(std::string_view event, const Reason* reason) {
    if (reason != nullptr) {
        if (contains(fatal_conditions, reason->condition)) {
            return FailureKind::fatal;
        }
        if (contains(transient_conditions, reason->condition)) {
            return FailureKind::transient;
        }
        // A certificate that does not verify will not verify on the next attempt either.
        if (reason->condition == net::SSL_INVALID_CHAIN ||
            reason->condition == net::SSL_INVALID_CERT) {
            return FailureKind::fatal;
        }
    }
    if (event == ev::AUTHFAIL || event == ev::BINDFAIL || event == ev::SESSIONFAIL) {
        return FailureKind::fatal;
    }
    return FailureKind::transient;
}

Backoff::Backoff(ReconnectConfig config, std::function<double()> uniform)
    : config_(config), uniform_(uniform ? std::move(uniform) : default_uniform) {}

std::chrono::milliseconds Backoff::ceiling() const {
    // initial * multiplier^attempt, computed in double and capped before converting back, so
    // that a long outage cannot overflow.
    const double initial = static_cast<double>(config_.initial_delay.count());
    const double cap = static_cast<double>(config_.max_delay.count());
    const double grown = initial * std::pow(config_.multiplier, static_cast<double>(attempt_));
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::min(grown, cap)));
}

std::optional<std::chrono::milliseconds> Backoff::next() {
    if (config_.max_attempts != 0 && attempt_ >= config_.max_attempts) {
        return std::nullopt;
    }
    const double floor = static_cast<double>(config_.min_delay.count());
    const double bound = std::max(floor, static_cast<double>(ceiling().count()));
    ++attempt_;
    const double drawn = floor + std::clamp(uniform_(), 0.0, 1.0) * (bound - floor);
    return std::chrono::milliseconds(static_cast<std::int64_t>(drawn));
}

} // namespace pcj::detail
