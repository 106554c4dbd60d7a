// TLS on GnuTLS: a client session driven through memory (credentials: tls_credentials.cpp).
#include "tls.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <utility>

#include <arpa/inet.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "encoding.hpp"
#include "pcj/error.hpp"
#include "tls_internal.hpp"

namespace pcj::detail {

namespace {

std::string sha256_hex(const gnutls_datum_t& data) {
    std::array<unsigned char, 32> digest{};
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data.data, data.size, digest.data()) != 0) {
        return {};
    }
    return hex_encode(digest.data(), digest.size());
}

// "sha256:AB:CD…", "sha256:abcd…" or bare hex → 64 lowercase hex digits; anything else → ""
// (which matches nothing, so a malformed pin fails closed).
std::string normalize_pin(std::string_view pin) {
    constexpr std::string_view prefix = "sha256:";
    if (pin.size() >= prefix.size() &&
        std::equal(prefix.begin(), prefix.end(), pin.begin(), [](char a, char b) {
            return a == std::tolower(static_cast<unsigned char>(b));
        })) {
        pin.remove_prefix(prefix.size());
    }
    std::string hex;
    for (char c : pin) {
        if (c == ':') {
            continue;
        }
        if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
            return {};
        }
        hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return hex.size() == 64 ? hex : std::string();
}

bool is_ip_literal(const std::string& name) {
    std::array<unsigned char, 16> address{};
    return inet_pton(AF_INET, name.c_str(), address.data()) == 1 ||
           inet_pton(AF_INET6, name.c_str(), address.data()) == 1;
}

// Verification bits that say the certificate itself is bad; any other bit says the chain is.
constexpr unsigned cert_problems = GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED |
                                   GNUTLS_CERT_REVOKED | GNUTLS_CERT_UNEXPECTED_OWNER;

bool chain_problem(unsigned status) {
    const unsigned other = status & ~(cert_problems | GNUTLS_CERT_INVALID);
    return other != 0 || (status & cert_problems) == 0;
}

std::string status_text(unsigned status) {
    gnutls_datum_t out{};
    if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) < 0) {
        return "certificate verification failed (status " + std::to_string(status) + ")";
    }
    std::string text(reinterpret_cast<const char*>(out.data), out.size);
    gnutls_free(out.data);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\0')) {
        text.pop_back();
    }
    return text;
}

// The DNS names (or, lacking any, the subject) of a DER certificate, for messages.
std::string certificate_names(const gnutls_datum_t& der) {
    gnutls_x509_crt_t crt = nullptr;
    if (gnutls_x509_crt_init(&crt) < 0) {
        return {};
    }
    std::string names;
    if (gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER) >= 0) {
        for (unsigned i = 0; i < 8; ++i) {
            std::array<char, 256> name{};
            std::size_t size = name.size();
            int type = gnutls_x509_crt_get_subject_alt_name(crt, i, name.data(), &size, nullptr);
            if (type < 0) {
                break;
            }
            if (type == GNUTLS_SAN_DNSNAME) {
                names += (names.empty() ? "" : ", ") + std::string(name.data(), size);
            }
        }
        if (names.empty()) {
            gnutls_datum_t dn{};
            if (gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0) {
                names.assign(reinterpret_cast<const char*>(dn.data), dn.size);
                gnutls_free(dn.data);
            }
        }
    }
    gnutls_x509_crt_deinit(crt);
    return names;
}

} // namespace

// ---- session -------------------------------------------------------------------------------

// Callbacks run only between GnuTLS calls, never inside one, so the application may call any
// member (write, close, feed) from them, and may even destroy the session: every callback site
// checks the liveness token and returns at once when the session is gone.
struct TlsSession::Impl {
    enum class State { idle, handshaking, established, failed, abandoned };

    std::shared_ptr<TlsCredentials> credentials;
    gnutls_session_t session = nullptr;
    std::string server_name;
    std::vector<std::string> pins; // normalised: 64 lowercase hex digits, or "" (matches nothing)
    bool verify = true;
    Callbacks callbacks;
    State state = State::idle;
    bool handshake_done = false;
    bool peer_closed = false;
    bool bye_sent = false;
    Reason setup_error;  // set when the session could not be set up; reported by start()
    std::string inbound; // ciphertext fed but not yet pulled by GnuTLS; released when drained
    std::size_t inbound_pos = 0;
    std::string outbound; // ciphertext pushed by GnuTLS, handed to send() after each call
    std::shared_ptr<char> alive = std::make_shared<char>('\0');

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    ~Impl() {
        if (session != nullptr) {
            gnutls_deinit(session);
        }
    }

    void setup(const TlsOptions& options);
    bool handshake();
    bool read_records();
    bool flush();
    void fail(Reason reason);
    void fail_with(int ret, std::string_view during);
    bool check_peer(Reason& why);
    bool check_pins(Reason& why);
    bool check_chain(Reason& why);
    void release_inbound();

    // After GNUTLS_E_AGAIN or another non-fatal error (a warning alert): call GnuTLS again?
    // AGAIN does not always mean "input exhausted": after a post-handshake message (a TLS 1.3
    // KeyUpdate) GnuTLS returns it with records still unread. Call again only when the last
    // call consumed input and more is at hand, so this can never spin.
    bool worth_calling_again(std::size_t pos_before) const {
        return inbound_pos != pos_before && inbound_pos < inbound.size();
    }

    template <typename F> bool emit(F&& call) {
        std::weak_ptr<char> token = alive;
        call();
        return !token.expired();
    }

    static ssize_t push(gnutls_transport_ptr_t self, const void* data, std::size_t size);
    static ssize_t pull(gnutls_transport_ptr_t self, void* data, std::size_t size);
    static int pull_timeout(gnutls_transport_ptr_t self, unsigned int ms);
};

// GnuTLS callbacks: memory only, nothing that can throw escapes.
ssize_t TlsSession::Impl::push(gnutls_transport_ptr_t self, const void* data, std::size_t size) {
    auto* impl = static_cast<Impl*>(self);
    try {
        impl->outbound.append(static_cast<const char*>(data), size);
    } catch (...) {
        gnutls_transport_set_errno(impl->session, ENOMEM);
        return -1;
    }
    return static_cast<ssize_t>(size);
}

ssize_t TlsSession::Impl::pull(gnutls_transport_ptr_t self, void* data, std::size_t size) {
    auto* impl = static_cast<Impl*>(self);
    const std::size_t available = impl->inbound.size() - impl->inbound_pos;
    if (available == 0) {
        // Not an end of file: the bytes have not arrived yet. GnuTLS returns GNUTLS_E_AGAIN.
        gnutls_transport_set_errno(impl->session, EAGAIN);
        return -1;
    }
    const std::size_t n = std::min(available, size);
    std::memcpy(data, impl->inbound.data() + impl->inbound_pos, n);
    impl->inbound_pos += n;
    return static_cast<ssize_t>(n);
}

int TlsSession::Impl::pull_timeout(gnutls_transport_ptr_t self, unsigned int /*ms*/) {
    const auto* impl = static_cast<const Impl*>(self);
    return impl->inbound.size() > impl->inbound_pos ? 1 : 0; // never waits
}

void TlsSession::Impl::setup(const TlsOptions& options) {
    verify = options.verify;
    for (const auto& pin : options.pins) {
        pins.push_back(normalize_pin(pin));
    }
    setup_error = Reason{"tls", 0, "ssl_failed", {}};
    if (!credentials) {
        setup_error.text = "no TLS credentials";
        return;
    }
    gnutls_priority_t priority = nullptr;
    try {
        priority = tls_priority(options.priority);
    } catch (const Error& e) {
        setup_error.text = e.what();
        return;
    }
    // No tickets: pcj never resumes, so a stored ticket would only cost memory per connection.
    int ret = gnutls_init(&session,
                          GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL | GNUTLS_NO_TICKETS);
    if (ret >= 0) {
        ret = gnutls_priority_set(session, priority);
    }
    if (ret >= 0) {
        ret = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE,
                                     credentials->impl().credentials);
    }
    if (ret >= 0 && !server_name.empty() && !is_ip_literal(server_name)) {
        ret = gnutls_server_name_set(session, GNUTLS_NAME_DNS, server_name.data(),
                                     server_name.size());
    }
    if (ret < 0) {
        setup_error.code = ret;
        setup_error.text = std::string("cannot set up the TLS session: ") + gnutls_strerror(ret);
        return;
    }
    gnutls_transport_set_ptr(session, this);
    gnutls_transport_set_push_function(session, &Impl::push);
    gnutls_transport_set_pull_function(session, &Impl::pull);
    gnutls_transport_set_pull_timeout_function(session, &Impl::pull_timeout);
    gnutls_handshake_set_timeout(session, 0); // the component owns the timers
    setup_error = Reason{};
}

// Hands what GnuTLS pushed to send(). Returns false when the session was destroyed meanwhile.
bool TlsSession::Impl::flush() {
    if (outbound.empty()) {
        return true;
    }
    std::string data;
    data.swap(outbound); // leaves no capacity behind on an idle session
    return emit([&] {
        if (callbacks.send) {
            callbacks.send(data);
        }
    });
}

void TlsSession::Impl::release_inbound() {
    if (inbound_pos >= inbound.size()) {
        std::string().swap(inbound);
        inbound_pos = 0;
    } else if (inbound_pos > 0) {
        inbound.erase(0, inbound_pos);
        inbound.shrink_to_fit();
        inbound_pos = 0;
    }
}

// The end: on_failure is the last thing this session does, so it may destroy the session.
void TlsSession::Impl::fail(Reason reason) {
    state = State::failed;
    std::string().swap(inbound);
    inbound_pos = 0;
    auto on_failure = std::move(callbacks.on_failure);
    if (on_failure) {
        on_failure(reason);
    }
}

void TlsSession::Impl::fail_with(int ret, std::string_view during) {
    std::string text = std::string(during) + gnutls_strerror(ret);
    if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED || ret == GNUTLS_E_WARNING_ALERT_RECEIVED) {
        const char* alert = gnutls_alert_get_name(gnutls_alert_get(session));
        text += std::string(": ") + (alert != nullptr ? alert : "unknown alert");
    }
    // Tell the peer why, unless the peer is the one who gave up.
    if (ret != GNUTLS_E_FATAL_ALERT_RECEIVED) {
        gnutls_alert_send_appropriate(session, ret);
        if (!flush()) {
            return;
        }
    }
    fail(Reason{"tls", ret, "ssl_failed", std::move(text)});
}

bool TlsSession::Impl::handshake() {
    int ret = 0;
    for (;;) {
        const std::size_t before = inbound_pos;
        ret = gnutls_handshake(session);
        if (ret >= 0 || gnutls_error_is_fatal(ret) != 0 || !worth_calling_again(before)) {
            break;
        }
    }
    if (!flush()) {
        return false;
    }
    if (state != State::handshaking || (ret < 0 && gnutls_error_is_fatal(ret) == 0)) {
        return true; // waiting for more bytes
    }
    if (ret < 0) {
        fail_with(ret, "handshake: ");
        return false;
    }
    handshake_done = true;
    // Verify before anything is decrypted for the application: records that arrived with the
    // server's last flight stay in GnuTLS's buffers until the peer is trusted.
    Reason why;
    if (!check_peer(why)) {
        const bool chain = why.condition == "ssl_invalid_chain";
        gnutls_alert_send(session, GNUTLS_AL_FATAL,
                          chain ? GNUTLS_A_UNKNOWN_CA : GNUTLS_A_BAD_CERTIFICATE);
        if (flush()) {
            fail(std::move(why));
        }
        return false;
    }
    state = State::established;
    if (!emit([&] {
            if (callbacks.on_established) {
                callbacks.on_established();
            }
        })) {
        return false;
    }
    return read_records();
}

bool TlsSession::Impl::check_peer(Reason& why) {
    why = Reason{"tls", GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR, "ssl_invalid_chain", {}};
    // Pins are checked even without verify: whoever pinned a key wants only that key.
    if (!pins.empty()) {
        return check_pins(why);
    }
    return !verify || check_chain(why);
}

bool TlsSession::Impl::check_pins(Reason& why) {
    unsigned count = 0;
    const gnutls_datum_t* certs = gnutls_certificate_get_peers(session, &count);
    if (certs == nullptr || count == 0) {
        why.text = "no pinned key matched: the server sent no certificate";
        return false;
    }
    const std::string cert_pin = sha256_hex(certs[0]);
    std::string key_pin;
    gnutls_pubkey_t key = nullptr;
    if (gnutls_pubkey_init(&key) >= 0) {
        gnutls_datum_t spki{};
        if (gnutls_pubkey_import_x509_raw(key, &certs[0], GNUTLS_X509_FMT_DER, 0) >= 0 &&
            gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, &spki) >= 0) {
            key_pin = sha256_hex(spki);
            gnutls_free(spki.data);
        }
        gnutls_pubkey_deinit(key);
    }
    for (const auto& pin : pins) {
        if (!pin.empty() && (pin == cert_pin || pin == key_pin)) {
            return true;
        }
    }
    why.text = "no pinned key matched (certificate sha256:" + cert_pin +
               ", public key sha256:" + key_pin + ")";
    return false;
}

bool TlsSession::Impl::check_chain(Reason& why) {
    unsigned status = 0;
    int ret = gnutls_certificate_verify_peers3(session, server_name.c_str(), &status);
    if (ret < 0) {
        why.text = gnutls_strerror(ret); // e.g. no certificate was sent
        return false;
    }
    if (status == 0) {
        return true;
    }
    why.condition = chain_problem(status) ? "ssl_invalid_chain" : "ssl_invalid_cert";
    why.text = status_text(status);
    if ((status & GNUTLS_CERT_UNEXPECTED_OWNER) != 0) {
        unsigned count = 0;
        const gnutls_datum_t* certs = gnutls_certificate_get_peers(session, &count);
        std::string names = count > 0 ? certificate_names(certs[0]) : std::string();
        why.text += " (server name " + tls_quoted(server_name) +
                    (names.empty() ? "" : ", certificate for " + names) + ")";
    }
    return false;
}

// Decrypts every complete record at hand. Returns false when the session was destroyed.
bool TlsSession::Impl::read_records() {
    std::array<char, 16384> buffer; // one record's worth of plaintext; on the stack, not kept
    while (state == State::established && !peer_closed) {
        const std::size_t before = inbound_pos;
        ssize_t n = gnutls_record_recv(session, buffer.data(), buffer.size());
        // Reading may write: a key update answer, an alert.
        if (!flush()) {
            return false;
        }
        if (n > 0) {
            std::string_view plaintext(buffer.data(), static_cast<std::size_t>(n));
            if (!emit([&] {
                    if (callbacks.on_plaintext) {
                        callbacks.on_plaintext(plaintext);
                    }
                })) {
                return false;
            }
        } else if (n == 0) {
            peer_closed = true;
            std::string().swap(inbound); // whatever follows close_notify is not read
            inbound_pos = 0;
            auto on_closed = std::move(callbacks.on_closed); // the last thing done: may destroy
            if (on_closed) {
                on_closed();
            }
            return false;
        } else if (n == GNUTLS_E_REHANDSHAKE) {
            // TLS 1.2 renegotiation is refused politely; the connection goes on.
            gnutls_alert_send(session, GNUTLS_AL_WARNING, GNUTLS_A_NO_RENEGOTIATION);
            if (!flush()) {
                return false;
            }
        } else if (gnutls_error_is_fatal(static_cast<int>(n)) != 0) {
            fail_with(static_cast<int>(n), "read: ");
            return false;
        } else if (!worth_calling_again(before)) {
            return true; // GNUTLS_E_AGAIN (or a warning alert) with nothing more at hand
        }
    }
    return true;
}

TlsSession::TlsSession(std::shared_ptr<TlsCredentials> credentials, const TlsOptions& options,
                       std::string server_name, Callbacks callbacks)
    : impl_(std::make_unique<Impl>()) {
    impl_->credentials = std::move(credentials);
    impl_->server_name = std::move(server_name);
    impl_->callbacks = std::move(callbacks);
    impl_->setup(options);
}

TlsSession::~TlsSession() = default;

void TlsSession::start() {
    Impl& impl = *impl_;
    if (impl.state != Impl::State::idle) {
        return;
    }
    if (!impl.setup_error.condition.empty()) {
        impl.fail(impl.setup_error);
        return;
    }
    impl.state = Impl::State::handshaking;
    if (impl.handshake()) {
        impl.release_inbound();
    }
}

void TlsSession::feed(std::string_view ciphertext) {
    Impl& impl = *impl_;
    const bool reading = impl.state == Impl::State::established && !impl.peer_closed;
    const bool before = impl.state == Impl::State::idle || impl.state == Impl::State::handshaking;
    if (ciphertext.empty() || !(reading || before)) {
        return;
    }
    impl.inbound.append(ciphertext);
    if (impl.state == Impl::State::idle) {
        return; // kept for start()
    }
    bool alive = reading ? impl.read_records() : impl.handshake();
    if (alive) {
        impl.release_inbound();
    }
}

// Before on_established (and after close()) writes are dropped: the component never writes
// then, and buffering would only hide a bug in the caller.
void TlsSession::write(std::string_view plaintext) {
    Impl& impl = *impl_;
    constexpr std::size_t flush_at = 64 * 1024; // bounded memory, few large sends
    std::size_t done = 0;
    while (done < plaintext.size()) {
        if (impl.state != Impl::State::established || impl.bye_sent) {
            return;
        }
        ssize_t n =
            gnutls_record_send(impl.session, plaintext.data() + done, plaintext.size() - done);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
        } else if (n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED) {
            // push never reports EAGAIN, so GNUTLS_E_AGAIN cannot repeat: no spinning here.
            impl.fail_with(static_cast<int>(n), "write: ");
            return;
        }
        if (impl.outbound.size() >= flush_at && !impl.flush()) {
            return;
        }
    }
    impl.flush();
}

void TlsSession::close() {
    Impl& impl = *impl_;
    if (impl.state == Impl::State::idle || impl.state == Impl::State::handshaking) {
        impl.state = Impl::State::abandoned; // nothing to close yet: stop the handshake
        impl.release_inbound();
        return;
    }
    if (impl.state != Impl::State::established || impl.bye_sent) {
        return;
    }
    impl.bye_sent = true;
    // SHUT_WR sends close_notify and returns: the peer's own close_notify, if it comes,
    // arrives through feed() and fires on_closed.
    gnutls_bye(impl.session, GNUTLS_SHUT_WR);
    impl.flush();
}

bool TlsSession::established() const {
    return impl_->state == Impl::State::established;
}

bool TlsSession::failed() const {
    return impl_->state == Impl::State::failed;
}

// The IANA name (RFC 8446 / RFC 5246 registries), e.g. "TLS_AES_256_GCM_SHA384" or
// "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": stable across GnuTLS versions and what other
// implementations log, unlike GnuTLS's own names.
std::string TlsSession::cipher() const {
    if (!impl_->handshake_done) {
        return {};
    }
    const char* name = gnutls_ciphersuite_get(impl_->session);
    return name != nullptr ? name : std::string();
}

std::string TlsSession::protocol_version() const {
    if (!impl_->handshake_done) {
        return {};
    }
    const char* name = gnutls_protocol_get_name(gnutls_protocol_get_version(impl_->session));
    return name != nullptr ? name : std::string();
}

std::pair<std::string, std::string> TlsSession::channel_binding() const {
    if (impl_->state != Impl::State::established) {
        return {};
    }
    const bool tls13 = gnutls_protocol_get_version(impl_->session) == GNUTLS_TLS1_3;
    const gnutls_channel_binding_t type = tls13 ? GNUTLS_CB_TLS_EXPORTER : GNUTLS_CB_TLS_UNIQUE;
    gnutls_datum_t data{};
    if (gnutls_session_channel_binding(impl_->session, type, &data) < 0) {
        return {};
    }
    std::string bytes(reinterpret_cast<const char*>(data.data), data.size);
    gnutls_free(data.data);
    return {tls13 ? "tls-exporter" : "tls-unique", std::move(bytes)};
}

} // namespace pcj::detail
