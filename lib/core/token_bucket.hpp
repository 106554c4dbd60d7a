// TokenBucket: the send rate limit's arithmetic (stanzas and bytes per second), without a loop
// or a clock of its own, so that tests give it the time.
//
// Each rate fills its bucket continuously up to one second's worth. A stanza may leave when
// each bucket holds its cost, or is full (so a stanza larger than a second's worth of bytes is
// not held for ever: it leaves with a full bucket and drives it below zero, which the
// following stanzas wait out).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>

namespace pcj::detail {

class TokenBucket {
public:
    using Clock = std::chrono::steady_clock;

    TokenBucket(double stanzas_per_second, double bytes_per_second, Clock::time_point now)
        : stanza_rate_(stanzas_per_second), byte_rate_(bytes_per_second),
          stanzas_(capacity(stanza_rate_)), bytes_(capacity(byte_rate_)), last_(now) {}

    bool limited() const { return stanza_rate_ > 0 || byte_rate_ > 0; }

    // How long until a stanza of `bytes` may leave (zero: now).
    std::chrono::milliseconds wait(std::size_t bytes, Clock::time_point now) {
        refill(now);
        const double s = shortfall(stanzas_, 1.0, stanza_rate_);
        const double b = shortfall(bytes_, static_cast<double>(bytes), byte_rate_);
        const double seconds = std::max(s, b);
        if (seconds <= 0) {
            return std::chrono::milliseconds(0);
        }
        return std::chrono::milliseconds(static_cast<long long>(std::ceil(seconds * 1000.0)));
    }

    // Takes a stanza of `bytes` out of the buckets: call it when wait() said zero.
    void take(std::size_t bytes) {
        if (stanza_rate_ > 0) {
            stanzas_ -= 1.0;
        }
        if (byte_rate_ > 0) {
            bytes_ -= static_cast<double>(bytes);
        }
    }

private:
    static double capacity(double rate) { return rate > 0 ? std::max(rate, 1.0) : 0.0; }

    void refill(Clock::time_point now) {
        const double elapsed = std::chrono::duration<double>(now - last_).count();
        last_ = now;
        if (elapsed <= 0) {
            return;
        }
        stanzas_ = std::min(capacity(stanza_rate_), stanzas_ + elapsed * stanza_rate_);
        bytes_ = std::min(capacity(byte_rate_), bytes_ + elapsed * byte_rate_);
    }

    // Seconds until `level` reaches min(cost, capacity) at `rate`; zero or less: enough now.
    static double shortfall(double level, double cost, double rate) {
        if (rate <= 0) {
            return 0;
        }
        const double need = std::min(cost, capacity(rate));
        return (need - level) / rate;
    }

    double stanza_rate_;
    double byte_rate_;
    double stanzas_;
    double bytes_;
    Clock::time_point last_;
};

} // namespace pcj::detail
