// Resolver: DNS lookups (SRV, A/AAAA) with c-ares, driven by the libuv loop: c-ares' sockets are
// watched with uv_poll and its retransmissions and timeouts run on a uv_timer, so a lookup never
// blocks the loop nor takes a thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <sys/socket.h>

struct uv_loop_s;

namespace pcj::detail {

struct ResolverOptions {
    // "ADDRESS" or "ADDRESS:PORT" ("[::1]:53" for IPv6); empty: the system's configuration.
    std::vector<std::string> servers;
    std::chrono::milliseconds timeout{3'000}; // per try of one query
    unsigned tries = 2;
};

struct SrvAnswer {
    std::string target; // "." means the service is not available (RFC 2782, RFC 6120 §3.2.1)
    std::uint16_t port = 0;
    std::uint16_t priority = 0;
    std::uint16_t weight = 0;
};

// The outcome of one lookup. `status` is c-ares' code (0 = ARES_SUCCESS); `nodata` tells "the
// name has no such records" (NXDOMAIN or an empty answer) from an error (timeout, refusal, …).
struct LookupStatus {
    int status = 0;
    bool nodata = false;
    std::string text;
    bool ok() const { return status == 0; }
};

// Callbacks always run from the loop, never inside the call that started the lookup, and never
// after the Resolver is destroyed or cancel() was called. Destroying the Resolver from inside a
// callback is allowed.
class Resolver {
public:
    using SrvCallback = std::function<void(const LookupStatus&, std::vector<SrvAnswer>)>;
    using AddressCallback = std::function<void(const LookupStatus&, std::vector<sockaddr_storage>)>;

    // Throws std::runtime_error when c-ares cannot be set up (e.g. a malformed server address).
    Resolver(uv_loop_s* loop, const ResolverOptions& options);
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // The SRV records of `name` (e.g. "_xmpp-client._tcp.example.org"), as the server sent them.
    void srv(const std::string& name, SrvCallback callback);
    // The IPv6 and IPv4 addresses of `name` (the hosts file first, then DNS), port set to `port`.
    void addresses(const std::string& name, std::uint16_t port, AddressCallback callback);
    // Drops every lookup under way without calling back.
    void cancel();

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

// "ADDRESS" or "ADDRESS:PORT" as ResolverOptions::servers takes it; false when malformed.
bool valid_dns_server(const std::string& server);

} // namespace pcj::detail
