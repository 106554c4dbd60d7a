// ReconnectPolicy: whether a connection that ended is tried again, and after how long.
//
// Pure logic (no loop, no clock): the life cycle asks it when a connection ends and arms a timer
// with the delay it returns. Delays follow "exponential backoff with full jitter": attempt n
// waits a uniformly random time in [min_delay, bound], where bound is
// max(min_delay, min(max_delay, initial_delay * multiplier^(n-1))), so that many clients cut off
// together do not come back together.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

#include "pcj/config.hpp"
#include "pcj/events.hpp"

namespace pcj::detail {

// What a failure means for the policy.
enum class FailureKind {
    transient, // the network or the server, for now: try again (refused, reset, timeout, …)
    fatal,     // trying again cannot help: wrong password, certificate rejected, unknown host
};
std::string_view to_string(FailureKind kind);

// Classifies the failure event (PCJ_CONNECTFAIL, PCJ_AUTHFAIL, …) with its reason. The
// reason's condition decides first when it is a stream error condition (RFC 6120 §4.9.3):
// host-unknown, not-authorized, conflict (another session took the resource over),
// invalid-namespace, unsupported-version, … are fatal; system-shutdown, see-other-host,
// connection-timeout, internal-server-error, reset, … are transient. Then the event: an
// authentication or bind failure and a rejected certificate are fatal; the rest is transient.
FailureKind classify_failure(std::string_view event, const Reason* reason);

class Backoff {
public:
    // `uniform` returns a number in [0, 1); the default draws from a per-process generator.
    explicit Backoff(ReconnectConfig config, std::function<double()> uniform = {});

    // The delay before the next attempt, counting it; nullopt when max_attempts are used up.
    std::optional<std::chrono::milliseconds> next();
    // The upper bound of the delay the next call to next() draws from.
    std::chrono::milliseconds ceiling() const;
    // A connection reached READY: the next failure starts from the first delay again.
    void reset() { attempt_ = 0; }
    // Attempts made since the last reset().
    unsigned attempt() const { return attempt_; }

private:
    ReconnectConfig config_;
    std::function<double()> uniform_;
    unsigned attempt_ = 0;
};

} // namespace pcj::detail
