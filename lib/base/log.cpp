// The default logger: timestamped lines on stderr.
#include "pcj/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace pcj {

namespace {
std::atomic<LogLevel> threshold{LogLevel::warning};
}

void set_log_level(LogLevel level) {
    threshold.store(level, std::memory_order_relaxed);
}

LogLevel log_level() {
    return threshold.load(std::memory_order_relaxed);
}

std::string_view to_string(LogLevel level) {
    switch (level) {
    case LogLevel::debug:
        return "debug";
    case LogLevel::info:
        return "info";
    case LogLevel::warning:
        return "warning";
    case LogLevel::error:
        return "error";
    }
    return "?";
}

void stderr_logger(LogLevel level, std::string_view alias, std::string_view line) {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const std::time_t secs = system_clock::to_time_t(now);
    const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    // One fprintf per line so concurrent components do not interleave within a line.
    std::fprintf(stderr, "%s.%03dZ %.*s %.*s: %.*s\n", stamp, static_cast<int>(millis),
                 static_cast<int>(alias.size()), alias.data(),
                 static_cast<int>(to_string(level).size()), to_string(level).data(),
                 static_cast<int>(line.size()), line.data());
}

} // namespace pcj
