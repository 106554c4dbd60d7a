// Small measurement helpers shared by the benchmark clients: CPU time, current and peak RSS.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

namespace bench {

// User + system CPU seconds of this process so far.
inline double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Peak resident set size of this process, in KiB.
inline long peak_rss_kb() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

// Resident set size right now, in KiB (from /proc/self/statm), or -1.
inline long current_rss_kb() {
    FILE* f = std::fopen("/proc/self/statm", "r");
    if (f == nullptr) {
        return -1;
    }
    long size = 0;
    long resident = 0;
    const int got = std::fscanf(f, "%ld %ld", &size, &resident);
    std::fclose(f);
    return got == 2 ? resident * (sysconf(_SC_PAGESIZE) / 1024) : -1;
}

// The line every client prints before its count: CPU from READY to the end, and peak RSS.
inline void print_stats(double cpu_from_ready) {
    std::printf("stats cpu_seconds=%.6f peak_rss_kb=%ld\n", cpu_from_ready, peak_rss_kb());
}

} // namespace bench
