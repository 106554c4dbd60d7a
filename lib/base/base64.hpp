// Base64 for SASL payloads, through GnuTLS (never by hand).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pcj::detail {

// Standard alphabet, padded, no line breaks.
std::string base64_encode(std::string_view data);
// nullopt when the text is not valid base64. Whitespace is not accepted.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace pcj::detail
