// Digests the protocols send: XEP-0114's handshake and XEP-0078's iq:auth digest.
#pragma once

#include <string>
#include <string_view>

namespace pcj::detail {

// Lowercase hex SHA-1 of the bytes (GnuTLS's hash).
std::string sha1_hex(std::string_view data);

// XEP-0114 §3: the handshake is hex(SHA-1(stream id + secret)); XEP-0078 §3.2 computes the
// iq:auth <digest/> the same way from the stream id and the password.
inline std::string handshake_digest(std::string_view stream_id, std::string_view secret) {
    std::string input;
    input.reserve(stream_id.size() + secret.size());
    input.append(stream_id).append(secret);
    return sha1_hex(input);
}

} // namespace pcj::detail
