// SASL: one small client over gsasl — mechanism choice by our preference, steps, verification.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pcj/events.hpp"

namespace pcj::detail {

struct SaslOptions {
    std::string username; // authcid
    std::string password;
    std::string authzid; // usually empty
    std::string service = "xmpp";
    std::string hostname; // the XMPP domain (DIGEST-MD5 digest-uri, realm)
    // Mechanisms the configuration allows; empty: every mechanism pcj knows.
    std::vector<std::string> allowed;
    bool allow_plaintext_password = false; // PLAIN / a password over an unencrypted stream
    // SCRAM: a server-first-message asking for more iterations is refused before gsasl sees
    // it (gsasl takes the count modulo 2^32, and leaks at 0).
    std::uint32_t max_scram_iterations = 100'000;
};

// The result of one step.
struct SaslStep {
    enum class Kind { respond, done, failed } kind = Kind::failed;
    std::string data; // raw bytes to send (base64-encode on the wire); may be empty
    Reason reason;    // when failed
};

class SaslClient {
public:
    // Strongest first: SCRAM-SHA-512-PLUS, SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS, SCRAM-SHA-512,
    // SCRAM-SHA-256, SCRAM-SHA-1, DIGEST-MD5, PLAIN, EXTERNAL, ANONYMOUS — limited to what gsasl
    // provides on this system.
    static std::vector<std::string> preference();

    explicit SaslClient(SaslOptions options);
    ~SaslClient();
    SaslClient(const SaslClient&) = delete;
    SaslClient& operator=(const SaslClient&) = delete;

    // Picks our most preferred mechanism among those offered, never the server's order.
    // -PLUS variants only when channel binding data is given; a password-based mechanism over
    // an unencrypted stream only when allow_plaintext_password. Returns nullopt and sets
    // *why when nothing acceptable is offered.
    std::optional<std::string> choose(const std::vector<std::string>& offered, bool encrypted,
                                      bool channel_binding_available, Reason* why) const;

    // channel_binding: {type, raw bytes} from TlsSession::channel_binding() (for -PLUS).
    SaslStep start(const std::string& mechanism,
                   const std::pair<std::string, std::string>& channel_binding = {});
    // The costly part of the step `challenge` would take, to run before step() off the loop
    // thread: SCRAM's PBKDF2 over the server's salt and iteration count, unless the result is
    // already cached. The function works on its own copies and is safe to run on any thread;
    // step() then uses what it computed. Null when there is nothing costly to do (or the
    // challenge is refused: step() says why).
    std::function<void()> precompute(std::string_view challenge);
    // A server challenge (already base64-decoded).
    SaslStep step(std::string_view challenge);
    // <success/> with its additional data (decoded): verifies the SCRAM server signature or
    // DIGEST-MD5's rspauth when the mechanism expects one. done, or failed with a reason.
    SaslStep finish(std::string_view additional_data);

    const std::string& mechanism() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace pcj::detail
