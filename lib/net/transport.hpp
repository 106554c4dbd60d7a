// Transport: one TCP connection on libuv — SRV and address lookups with c-ares on the loop, every
// address tried (RFC 8305 happy eyeballs), buffered writes.
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
#include "pcj/payload.hpp"
#include "resolver.hpp"

struct uv_loop_s;

namespace pcj::detail {

// Where to connect, and how to find it.
struct Destination {
    // A host name or a numeric address. Empty, with srv_domain empty: this machine's loopback
    // addresses (::1, then 127.0.0.1).
    std::string host;
    std::uint16_t port = 0;
    // With host empty: look up the SRV records of this domain (RFC 6120 §3.2.1, XEP-0368) and
    // try their targets; when it has none (or the lookup fails), the domain itself on `port`
    // (5222 when port is 0). A record "." (service not available) ends the attempt.
    std::string srv_domain;
    bool lookup_direct_tls = true;  // also _xmpps-client._tcp (XEP-0368)
    bool prefer_direct_tls = false; // every Direct TLS record before any STARTTLS record
    bool direct_tls = false;        // the host (or the fallback domain) speaks Direct TLS
    ResolverOptions dns;
    std::chrono::milliseconds timeout{0};         // per address attempt; zero: none
    std::chrono::milliseconds attempt_delay{250}; // RFC 8305's "Connection Attempt Delay"
};

// The address a connection reached, and under which name.
struct Peer {
    std::string address;
    int family = 0; // 4 or 6
    std::uint16_t port = 0;
    std::string name;        // the SRV target or host name (empty for a numeric address)
    bool direct_tls = false; // TLS from the first byte on this connection
};

// Error rule (libuv's): a call that fails synchronously produces no callback later; an accepted
// operation produces exactly one completion or one failure. No callback ever fires after
// abort() or after the Transport is destroyed. close() and abort() may be called from inside
// any callback; the destructor may not.
class Transport {
public:
    struct Callbacks {
        // A name lookup started (the host, an SRV name, an SRV target) / the addresses it found
        // (in the order they will be tried; an SRV lookup reports none).
        std::function<void(const std::string& host)> on_resolving;
        std::function<void(const std::vector<std::string>& addresses)> on_resolved;
        // Each SRV record, in the order the records will be tried.
        std::function<void(const SrvRecord& record)> on_srv_record;
        // No usable SRV record (none, or the lookup failed: the reason says which): the domain
        // itself is tried next.
        std::function<void(const Reason& why)> on_srv_fallback;
        // About to connect to one address (family is 4 or 6). With happy eyeballs several
        // attempts may be under way at once.
        std::function<void(const std::string& address, int family, std::uint16_t port)>
            on_connecting;
        // One target's lookup (address empty) or one address failed; the others are tried.
        std::function<void(const Attempt& attempt, const Reason& why)> on_attempt_failed;
        std::function<void()> on_connected; // peer() tells which address won
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

    // Looks up what the destination needs (c-ares, on the loop), then tries the addresses in
    // order, a new attempt starting when the previous one fails or attempt_delay has passed;
    // the first to connect wins and the others are dropped.
    void connect(Destination destination);
    // connect() to host:port with the system's resolver configuration.
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
    // The connected address (empty before on_connected).
    const Peer& peer() const;
    std::uint64_t bytes_read() const;
    std::uint64_t bytes_written() const;
    // Bytes accepted by write() on this connection: bytes_written() plus buffered().
    std::uint64_t bytes_queued() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

} // namespace pcj::detail
