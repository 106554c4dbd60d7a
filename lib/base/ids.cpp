// Random identifiers from GnuTLS's random generator.
#include "ids.hpp"

#include <array>
#include <atomic>
#include <stdexcept>

#include <gnutls/crypto.h>

namespace pcj::detail {

std::string random_hex(std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    std::array<unsigned char, 32> buf{};
    while (n > 0) {
        const std::size_t take = n < buf.size() ? n : buf.size();
        if (gnutls_rnd(GNUTLS_RND_NONCE, buf.data(), take) != 0) {
            throw std::runtime_error("gnutls_rnd failed");
        }
        for (std::size_t i = 0; i < take; ++i) {
            out.push_back(digits[buf[i] >> 4]);
            out.push_back(digits[buf[i] & 0x0f]);
        }
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
