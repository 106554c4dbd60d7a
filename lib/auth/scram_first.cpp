// SCRAM's server-first-message: its fields, its iteration counts, and the salted password.
#include "scram_first.hpp"

namespace pcj::detail {

ServerFirst server_first_fields(std::string_view message) {
    ServerFirst out;
    while (!message.empty()) {
        const auto comma = message.find(',');
        const std::string_view attr = message.substr(0, comma);
        if (attr.starts_with("s=") && out.salt.empty())
            out.salt = attr.substr(2);
        if (attr.starts_with("i=") && out.iterations.empty())
            out.iterations = attr.substr(2);
        message = comma == std::string_view::npos ? std::string_view{} : message.substr(comma + 1);
    }
    return out;
}

// Why the iteration counts of a server-first-message are refused, or empty. Every i= counts:
// a count must be a positive decimal number without leading zeros (RFC 5802's posit-number)
// and at most `max`, checked before gsasl, which reads counts modulo 2^32.
std::string iteration_refusal(std::string_view message, std::uint32_t max) {
    while (!message.empty()) {
        const auto comma = message.find(',');
        const std::string_view attr = message.substr(0, comma);
        message = comma == std::string_view::npos ? std::string_view{} : message.substr(comma + 1);
        if (!attr.starts_with("i="))
            continue;
        const std::string_view digits = attr.substr(2);
        if (digits.empty() || digits[0] < '1' || digits[0] > '9' ||
            digits.find_first_not_of("0123456789") != std::string_view::npos) {
            return "the server's iteration count '" + std::string(digits.substr(0, 20)) +
                   "' is not a positive number";
        }
        std::uint64_t value = 0;
        for (const char c : digits) {
            value = value * 10 + static_cast<std::uint64_t>(c - '0');
            if (value > max)
                break;
        }
        if (digits.size() > 10 || value > max) {
            return "the server asks for " + std::string(digits.substr(0, 20)) +
                   " iterations, more than max_scram_iterations (" + std::to_string(max) + ")";
        }
    }
    return {};
}

void derive(Derived& d) {
    char salted[GSASL_HASH_MAX_SIZE];
    char client_key[GSASL_HASH_MAX_SIZE];
    char server_key[GSASL_HASH_MAX_SIZE];
    char stored_key[GSASL_HASH_MAX_SIZE];
    if (gsasl_scram_secrets_from_password(d.hash, d.password.c_str(), d.iterations, d.salt.data(),
                                          d.salt.size(), salted, client_key, server_key,
                                          stored_key) != GSASL_OK) {
        return;
    }
    char* hexed = nullptr;
    std::size_t hexed_len = 0; // gsasl 2.2 writes it unconditionally
    if (gsasl_hex_to(salted, gsasl_hash_length(d.hash), &hexed, &hexed_len) != GSASL_OK)
        return;
    d.salted_hex = hexed;
    gsasl_free(hexed);
}

SaltedPasswordCache& salted_password_cache() {
    static SaltedPasswordCache cache;
    return cache;
}

} // namespace pcj::detail
