// SHA-1 through GnuTLS, never by hand.
#include "digest.hpp"

#include <array>
#include <stdexcept>

#include <gnutls/crypto.h>

#include "encoding.hpp"

namespace pcj::detail {

std::string sha1_hex(std::string_view data) {
    std::array<unsigned char, 20> digest{};
    if (gnutls_hash_fast(GNUTLS_DIG_SHA1, data.data(), data.size(), digest.data()) != 0) {
        throw std::runtime_error("gnutls_hash_fast(SHA1) failed");
    }
    return hex_encode(digest.data(), digest.size());
}

} // namespace pcj::detail
