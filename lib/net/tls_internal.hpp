// What the TLS session and the credentials share inside lib/: the priority cache and the
// credentials' GnuTLS object.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <gnutls/gnutls.h>

#include "tls.hpp"

namespace pcj::detail {

struct CredentialFiles;

// The shared priority for a GnuTLS priority string (empty: "NORMAL"), parsed once per process.
// Throws pcj::Error naming the string when it is invalid.
gnutls_priority_t tls_priority(const std::string& text);
// "text", for messages.
std::string tls_quoted(std::string_view text);

struct TlsCredentials::Impl {
    gnutls_certificate_credentials_t credentials = nullptr;
    std::size_t trusted = 0;

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    ~Impl() {
        if (credentials != nullptr) {
            gnutls_certificate_free_credentials(credentials);
        }
    }

    void load_trust(const TlsOptions& options, const CredentialFiles& files);
    void load_client_certificate(const TlsOptions& options, const CredentialFiles& files);
};

} // namespace pcj::detail
