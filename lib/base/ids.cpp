// Random identifiers from GnuTLS's random generator.
#include "ids.hpp"

#include <array>
#include <atomic>
#include <stdexcept>

#include <gnutls/crypto.h>

#include "encoding.hpp"

namespace pcj::detail {

std::string random_hex(std::size_t n) {
    std::string out;
    out.reserve(n * 2);
    std::array<unsigned char, 32> buf{};
    while (n > 0) {
        const std::size_t take = n < buf.size() ? n : buf.size();
        if (gnutls_rnd(GNUTLS_RND_NONCE, buf.data(), take) != 0) {
            throw std::runtime_error("gnutls_rnd failed");
        }
        out += hex_encode(buf.data(), take);
        n -= take;
    }
    return out;
}

std::uint64_t next_component_id() {
    static std::atomic<std::uint64_t> counter{0};
    return ++counter;
}

std::uint64_t next_connection_id() {
    static std::atomic<std::uint64_t> counter{0};
    return ++counter;
}

} // namespace pcj::detail
