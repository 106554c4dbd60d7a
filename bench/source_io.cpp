// source_io: the stanza source's plain-socket plumbing (see source_io.hpp).
#include "source_io.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <arpa/inet.h>

namespace bench {

double now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void die(const std::string& what) {
    std::fprintf(stderr, "stanza_source: %s\n", what.c_str());
    std::exit(1);
}

std::string trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    const auto last = s.find_last_not_of(" \t\r\n");
    return first == std::string_view::npos ? std::string()
                                           : std::string(s.substr(first, last - first + 1));
}

std::size_t Scanner::feed(std::string_view chunk) {
    std::size_t found = 0;
    if (!carry_.empty()) {
        const std::string joined =
            carry_ + std::string(chunk.substr(0, std::min(chunk.size(), pattern_.size() - 1)));
        for (std::size_t at = joined.find(pattern_); at != std::string::npos && at < carry_.size();
             at = joined.find(pattern_, at + 1)) {
            ++found;
        }
    }
    for (std::size_t at = chunk.find(pattern_); at != std::string_view::npos;
         at = chunk.find(pattern_, at + pattern_.size())) {
        ++found;
    }
    const std::size_t keep = pattern_.size() - 1;
    if (chunk.size() >= keep) {
        carry_.assign(chunk.substr(chunk.size() - keep));
    } else {
        carry_ += chunk;
        carry_.erase(0, carry_.size() > keep ? carry_.size() - keep : 0);
    }
    total_ += found;
    return found;
}

namespace {

void read_some(Peer& peer) {
    const ssize_t n = read(peer.fd, peer.buffer.data(), peer.buffer.size());
    if (n > 0) {
        peer.on_input(std::string_view(peer.buffer.data(), static_cast<std::size_t>(n)));
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        peer.eof = true;
    }
}

// Writes what it can of the next segment, else of the queue.
void write_some(Peer& peer, Output& out) {
    const bool from_queue = out.index >= out.segments.size();
    const std::string_view seg = from_queue ? std::string_view(out.queue).substr(out.queue_offset)
                                            : out.segments[out.index].substr(out.offset);
    const ssize_t n = write(peer.fd, seg.data(), seg.size());
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
        peer.eof = true; // the client went away; the caller reports what it saw
        return;
    }
    const std::size_t wrote = n > 0 ? static_cast<std::size_t>(n) : 0;
    if (from_queue) {
        out.queue_offset += wrote;
        if (out.queue_offset == out.queue.size()) {
            out.queue.clear(); // keeps its capacity for the next replies
            out.queue_offset = 0;
        }
    } else if ((out.offset += wrote) == out.segments[out.index].size()) {
        ++out.index;
        out.offset = 0;
    }
}

} // namespace

void run_io(Peer& peer, Output& out, const std::function<bool()>& until, double deadline) {
    while (!(out.done() && until()) && !peer.eof) {
        pollfd p{peer.fd, static_cast<short>(POLLIN | (out.done() ? 0 : POLLOUT)), 0};
        const int rc = poll(&p, 1, 1000);
        if (rc < 0 && errno != EINTR) {
            die(std::string("poll: ") + std::strerror(errno));
        }
        if (now() > deadline) {
            die("timed out waiting for the client");
        }
        if (rc <= 0) {
            continue;
        }
        if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            read_some(peer);
        }
        if ((p.revents & POLLOUT) != 0 && !out.done()) {
            write_some(peer, out);
        }
    }
}

int listen_on(std::uint16_t port, const std::string& port_file) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        die("socket failed");
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 4) != 0) {
        die(std::string("bind/listen: ") + std::strerror(errno));
    }
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    const unsigned bound = ntohs(addr.sin_port);
    if (port_file.empty()) {
        std::printf("port=%u\n", bound);
        std::fflush(stdout);
    } else {
        // Written then renamed, so whoever polls for the file never reads half of it.
        const std::string tmp = port_file + ".tmp";
        FILE* f = std::fopen(tmp.c_str(), "w");
        if (f == nullptr) {
            die("cannot write " + tmp);
        }
        std::fprintf(f, "%u\n", bound);
        std::fclose(f);
        std::rename(tmp.c_str(), port_file.c_str());
    }
    return fd;
}

} // namespace bench
