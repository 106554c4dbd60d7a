// The order in which a connection tries its destinations: RFC 2782 for SRV records (priority,
// then weighted random choice), XEP-0368 for mixing Direct TLS and STARTTLS records, RFC 8305
// §4 for interleaving a host's IPv6 and IPv4 addresses. Pure functions, tested on their own.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <sys/socket.h>

#include "resolver.hpp"

namespace pcj::detail {

// One host to connect to: from an SRV record, or the host (or fallback domain) itself.
struct DialTarget {
    std::string host;
    std::uint16_t port = 0;
    bool direct_tls = false;
    std::string service; // "_xmpp-client._tcp", "_xmpps-client._tcp"; empty: not from SRV
    std::uint16_t priority = 0;
    std::uint16_t weight = 0;
};

// A uniform random number in [0, bound]; tests pass a predictable one.
using Pick = std::function<std::uint32_t(std::uint32_t bound)>;
Pick random_pick();

// RFC 2782's order of a set of records: ascending priority; within a priority, records are
// drawn one after another with probability proportional to their weight (weight-0 records come
// first in the running sums, so they are rarely chosen before the others).
std::vector<DialTarget> order_srv(std::vector<DialTarget> records, const Pick& pick);

// XEP-0368: STARTTLS and Direct TLS records as one set ("all priorities and weights are mixed"),
// or, when prefer_direct, every Direct TLS record before any STARTTLS record.
std::vector<DialTarget> merge_srv(const std::vector<DialTarget>& starttls,
                                  const std::vector<DialTarget>& direct, bool prefer_direct,
                                  const Pick& pick);

// RFC 8305 §4: the first address's family first, then the families alternating, each keeping
// its own order.
std::vector<sockaddr_storage> interleave(const std::vector<sockaddr_storage>& addresses);

// The records of one SRV answer as targets.
std::vector<DialTarget> targets_of(const std::vector<SrvAnswer>& answers,
                                   const std::string& service, bool direct_tls);

// The single record "." (RFC 2782): the service is decidedly not available at this domain.
bool service_refused(const std::vector<SrvAnswer>& answers);

} // namespace pcj::detail
