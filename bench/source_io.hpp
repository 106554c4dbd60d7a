// source_io: the stanza source's plain-socket plumbing, shared by its XEP-0114 modes
// (stanza_source.cpp) and its client-to-server sink (source_c2s.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

double now();         // seconds on the steady clock
double cpu_seconds(); // user + system CPU of this process

[[noreturn]] void die(const std::string& what);

std::string trim(std::string_view s);

// Counts a pattern in a byte stream that arrives in chunks (matches may straddle chunks).
class Scanner {
public:
    explicit Scanner(std::string pattern) : pattern_(std::move(pattern)) {}
    std::size_t feed(std::string_view chunk);
    std::size_t total() const { return total_; }

private:
    std::string pattern_;
    std::string carry_;
    std::size_t total_ = 0;
};

// What remains to be written: views into buffers that outlive the writing, then `queue`, which
// may grow while it is written (replies made as the input arrives).
struct Output {
    std::vector<std::string_view> segments;
    std::size_t index = 0;
    std::size_t offset = 0;
    std::string queue;
    std::size_t queue_offset = 0;
    bool done() const { return index >= segments.size() && queue_offset >= queue.size(); }
};

// The socket, with everything read handed to on_input as it arrives.
struct Peer {
    int fd = -1;
    bool eof = false;
    std::function<void(std::string_view)> on_input;
    std::vector<char> buffer = std::vector<char>(256 * 1024);
};

// Writes `out` while reading; returns once `out` is written and until() holds, or the peer
// closed. Dies on timeout or a socket error.
void run_io(Peer& peer, Output& out, const std::function<bool()>& until, double deadline);

// A listening socket on 127.0.0.1:port (0: any), its port printed as "port=N" on stdout or
// written to port_file.
int listen_on(std::uint16_t port, const std::string& port_file);

// What one run measured, printed by main.
struct Result {
    std::size_t stanzas = 0;
    std::size_t messages = 0;
    std::size_t bytes = 0;
    double seconds = 0;
    std::string extra;
};

} // namespace bench
