// Random identifiers: generated resources, stanza ids, per-process component ids.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pcj::detail {

// n random bytes from GnuTLS's nonce generator, as 2n lowercase hex characters.
std::string random_hex(std::size_t n);

// A unique id for each Component in the process (1, 2, 3, …).
std::uint64_t next_component_id();

// A unique id for each connection in the process (1, 2, 3, …; never reused).
std::uint64_t next_connection_id();

} // namespace pcj::detail
