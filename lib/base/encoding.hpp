// Base64 and hex, through GnuTLS (never by hand).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace pcj::detail {

// Standard alphabet, padded, no line breaks.
std::string base64_encode(std::string_view data);
// nullopt when the text is not valid base64: only the standard alphabet with its padding — no
// whitespace and no line breaks, which RFC 6120 §6.4.2 does not allow in SASL data (and which
// GnuTLS's decoder alone would skip).
std::optional<std::string> base64_decode(std::string_view text);

// Lowercase hex, two digits a byte.
std::string hex_encode(std::string_view data);
std::string hex_encode(const unsigned char* data, std::size_t size);

} // namespace pcj::detail
