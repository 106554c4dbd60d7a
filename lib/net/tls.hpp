// TLS: a GnuTLS client session as a byte transformer, with credentials loaded once per process.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pcj/events.hpp"

namespace pcj::detail {

// What a connection asks of TLS. Equal options share one credentials object.
struct TlsOptions {
    bool verify = true;            // chain, dates and host name; off only when asked (logged)
    std::string ca_file;           // PEM bundle; empty: the system trust store
    std::string ca_dir;            // a directory of PEM certificates (added to the above)
    std::vector<std::string> pins; // "sha256:HEX" of the certificate's DER or its public key's DER
    std::string client_cert_file;  // PEM certificate chain for client authentication
    std::string client_key_file;   // PEM private key
    std::string priority;          // GnuTLS priority string; empty: "NORMAL"
};

// Trust store and client certificate, loaded once and shared by every session that uses the
// same options (thread-safe cache). Loading the system bundle per connection is what makes
// other libraries spend ~45 ms and ~880 KB per login.
//
// pcj reads the CA file, the files of the CA directory, the client certificate and its key
// itself (GnuTLS gets their contents), so that each open and read can be reported as a socket
// record (the socket records of doc/origins.md: EVENT_OPEN_FILE, EVENT_FILE_OPENED,
// EVENT_DATA_READ). The system trust store is read by GnuTLS and reported by nothing.
class TlsCredentials {
public:
    // Receives a record (code, source file, name, purpose, bytes, total; no id) for each step of
    // reading a file, as it happens. Called without any lock held; may throw (get() passes the
    // exception on).
    using FileObserver = std::function<void(SocketRecord& record)>;

    // Returns the shared credentials for these options, loading them on first use; only a load
    // reads files, so only the caller that loads them sees `observer` called. Throws pcj::Error
    // with a clear message (file and the system's or GnuTLS's reason) when they cannot be loaded.
    static std::shared_ptr<TlsCredentials> get(const TlsOptions& options,
                                               const FileObserver& observer = {});
    // What can be checked without reading: every file named is readable, the certificate has its
    // key, the priority string is valid. Throws pcj::Error like get().
    static void check(const TlsOptions& options);
    ~TlsCredentials();
    TlsCredentials(const TlsCredentials&) = delete;
    TlsCredentials& operator=(const TlsCredentials&) = delete;

    struct Impl;
    Impl& impl() { return *impl_; }
    std::size_t trusted_count() const; // certificates in the trust list

private:
    explicit TlsCredentials(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// One client session driven through memory: ciphertext in through feed(), ciphertext out
// through Callbacks::send; never blocks, never spins on GNUTLS_E_AGAIN.
//
// Verification failures end the session with on_failure, Reason.op "tls" and condition:
//   "ssl_invalid_chain" — the chain does not lead to a trusted CA (unknown issuer, self-signed,
//                         bad signature, or no pinned key matched),
//   "ssl_invalid_cert"  — the certificate is bad in itself: expired, not yet valid, revoked, or
//                         issued for another name than server_name,
//   "ssl_failed"        — the handshake failed for any other reason (protocol alert, …).
// Reason.text says exactly why (GnuTLS's verification status printed as text).
class TlsSession {
public:
    struct Callbacks {
        std::function<void(std::string_view ciphertext)> send;
        std::function<void(std::string_view plaintext)> on_plaintext;
        std::function<void()> on_established;
        std::function<void(const Reason& reason)> on_failure;
        // The peer sent close_notify: no more plaintext will come.
        std::function<void()> on_closed;
    };

    // server_name is the XMPP domain: it is sent as SNI and the certificate must match it.
    TlsSession(std::shared_ptr<TlsCredentials> credentials, const TlsOptions& options,
               std::string server_name, Callbacks callbacks);
    ~TlsSession();
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    void start();                           // sends the ClientHello
    void feed(std::string_view ciphertext); // bytes read from the socket
    void write(std::string_view plaintext); // only once established
    void close();                           // close_notify
    bool established() const;
    bool failed() const;

    std::string cipher() const;           // e.g. "TLS_AES_256_GCM_SHA384"
    std::string protocol_version() const; // e.g. "TLS1.3"
    // Channel binding data (RFC 9266 tls-exporter on TLS 1.3, RFC 5929 tls-unique on 1.2):
    // returns {type name, raw bytes}, or an empty type when none is available.
    std::pair<std::string, std::string> channel_binding() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace pcj::detail
