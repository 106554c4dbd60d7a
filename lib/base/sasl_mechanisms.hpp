// The SASL mechanism names pcj knows, strongest first: shared by Config's validation (base) and
// the SASL client (auth), which cuts the list down to what the installed gsasl implements.
#pragma once

#include <string_view>

namespace pcj::detail {

inline constexpr std::string_view known_sasl_mechanisms[] = {
    "SCRAM-SHA-512-PLUS", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-512",
    "SCRAM-SHA-256",      "SCRAM-SHA-1",        "DIGEST-MD5",       "PLAIN",
    "EXTERNAL",           "ANONYMOUS",
};

} // namespace pcj::detail
