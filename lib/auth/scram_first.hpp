// SCRAM apart from gsasl: the server-first-message checked before gsasl sees it (the iteration
// count bounded: gsasl reads it modulo 2^32 and leaks at 0), the salted password derived apart
// so that the core can run PBKDF2 off the loop thread (SaslClient::precompute), and the cache
// of salted passwords.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <gsasl.h>

namespace pcj::detail {

// "[m=ext,]r=nonce,s=salt,i=count[,ext]" (RFC 5802 §7): the first s= and i=, as sent.
struct ServerFirst {
    std::string salt;       // base64
    std::string iterations; // decimal
};
ServerFirst server_first_fields(std::string_view message);

// Why the message's iteration counts are refused, or empty: every i= must be a positive decimal
// number without leading zeros (RFC 5802's posit-number) and at most `max`.
std::string iteration_refusal(std::string_view message, std::uint32_t max);

// A SaltedPassword to derive for one salt and count; derive() fills salted_hex (empty when it
// failed). Works on its own copies: safe on any thread.
struct Derived {
    Gsasl_hash hash;
    std::string password;
    std::string salt; // decoded
    std::string salt_text, iterations_text;
    unsigned iterations;
    std::string salted_hex;
};
void derive(Derived& d);

// SCRAM's SaltedPassword = PBKDF2(password, salt, iterations) is the costly part of a login.
// A reconnect to the same server with the same credentials gets the same salt and iteration
// count, so the result is kept for the life of the process and handed back to gsasl.
class SaltedPasswordCache {
public:
    struct Key {
        std::string hash, username, hostname, password_digest, salt, iterations;
        auto operator<=>(const Key&) const = default;
    };

    std::optional<std::string> find(const Key& key) {
        const std::lock_guard lock(mutex_);
        const auto it = entries_.find(key);
        if (it == entries_.end()) {
            return std::nullopt;
        }
        return it->second;
    }

    void store(Key key, std::string salted_password) {
        const std::lock_guard lock(mutex_);
        // A process holds a handful of accounts; the bound only keeps a runaway from growing.
        if (entries_.size() >= max_entries && !entries_.contains(key)) {
            entries_.clear();
        }
        entries_.insert_or_assign(std::move(key), std::move(salted_password));
    }

private:
    static constexpr std::size_t max_entries = 1024;
    std::mutex mutex_;
    std::map<Key, std::string> entries_;
};

// The process-wide cache.
SaltedPasswordCache& salted_password_cache();

} // namespace pcj::detail
