// Transport: one TCP connection on libuv — resolve off the loop, try each address, buffered writes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pcj/events.hpp"

struct uv_loop_s;

namespace pcj::detail {

// Error rule (libuv's): a call that fails synchronously produces no callback later; an accepted
// operation produces exactly one completion or one failure. No callback ever fires after
// abort() or after the Transport is destroyed. close() and abort() may be called from inside
// any callback; the destructor may not.
class Transport {
public:
    struct Callbacks {
        // Name resolution started / finished (addresses in the order they will be tried).
        std::function<void(const std::string& host)> on_resolving;
        std::function<void(const std::vector<std::string>& addresses)> on_resolved;
        // About to connect to one address (family is 4 or 6).
        std::function<void(const std::string& address, int family, std::uint16_t port)>
            on_connecting;
        std::function<void()> on_connected;
        std::function<void(std::string_view bytes)> on_data;
        // Connecting failed for every address (op "resolve" or "connect", code the positive
        // errno, e.g. 111 for ECONNREFUSED, or ETIMEDOUT for the connect timeout), or an
        // established connection failed (op "read"/"write"; end of file is op "read", code 0,
        // text "end of file"). After on_failure the transport is closed.
        std::function<void(const Reason& reason)> on_failure;
        // One write completed: `bytes` more were passed to the kernel (bytes_written() counts
        // them already). Fires before the on_drain it may lead to.
        std::function<void(std::size_t bytes)> on_sent;
        // Every byte handed to write() has been passed to the kernel.
        std::function<void()> on_drain;
        // close() finished: buffered writes flushed (or given up) and the socket closed.
        std::function<void()> on_closed;
    };

    Transport(uv_loop_s* loop, Callbacks callbacks);
    ~Transport();
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    // Resolves host (off the loop thread, getaddrinfo through libuv's pool; IPv4 and IPv6) and
    // tries each address in turn, each bounded by timeout (zero: no timeout). An empty host
    // means this machine's loopback addresses (::1, then 127.0.0.1).
    void connect(std::string host, std::uint16_t port, std::chrono::milliseconds timeout);
    // Queues bytes for writing; they are written in order. Ignored unless connected.
    void write(std::string bytes);
    // Bytes accepted by write() that the kernel has not taken yet.
    std::size_t buffered() const;
    // Graceful: flush what is buffered, shut down the write side, close; then on_closed.
    void close();
    // Immediate: close the socket, cancel everything, no further callbacks.
    void abort();
    bool connected() const;
    std::uint64_t bytes_read() const;
    std::uint64_t bytes_written() const;
    // Bytes accepted by write() on this connection: bytes_written() plus buffered().
    std::uint64_t bytes_queued() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

} // namespace pcj::detail
