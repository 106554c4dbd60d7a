// SASL client over GNU SASL: mechanism choice, steps, server verification, SCRAM key cache.
#include "sasl.hpp"
#include "scram_first.hpp"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gsasl.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "encoding.hpp"
#include "sasl_mechanisms.hpp"

namespace pcj::detail {
namespace {

constexpr std::string_view tls_exporter = "tls-exporter";
constexpr std::string_view tls_unique = "tls-unique";

bool is_plus(std::string_view mech) {
    return mech.ends_with("-PLUS");
}
bool is_scram(std::string_view mech) {
    return mech.starts_with("SCRAM-");
}
bool is_password_mechanism(std::string_view mech) {
    return is_scram(mech) || mech == "DIGEST-MD5" || mech == "PLAIN";
}
// Mechanisms whose server proves, in a last message, that it knows the password.
bool expects_server_proof(std::string_view mech) {
    return is_scram(mech) || mech == "DIGEST-MD5";
}
bool contains(const std::vector<std::string>& list, std::string_view item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

// The SCRAM hash family ("SHA-1", "SHA-256"): -PLUS and plain variants share salted passwords.
std::string scram_hash(std::string_view mech) {
    std::string_view rest = mech.substr(std::string_view("SCRAM-").size());
    if (is_plus(rest)) {
        rest.remove_suffix(std::string_view("-PLUS").size());
    }
    return std::string(rest);
}

// Releases the buffers gsasl allocates for step output and base64.
struct GsaslFree {
    void operator()(char* p) const { gsasl_free(p); }
};
using GsaslString = std::unique_ptr<char, GsaslFree>;

// The cache is keyed by a digest of the password, never the password itself.
std::string password_digest(const std::string& password) {
    unsigned char out[32];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, password.data(), password.size(), out) != 0) {
        return {};
    }
    return hex_encode(out, sizeof out);
}

int on_property(Gsasl* ctx, Gsasl_session* sctx, Gsasl_property prop);

// One gsasl context for the process. It is never released: sessions may exist until exit.
Gsasl* gsasl_context() {
    static Gsasl* const ctx = [] {
        Gsasl* c = nullptr;
        if (gsasl_init(&c) != GSASL_OK) {
            return static_cast<Gsasl*>(nullptr);
        }
        gsasl_callback_set(c, on_property);
        return c;
    }();
    return ctx;
}

std::string gsasl_text(int rc) {
    return std::string(gsasl_strerror(rc)) + " (" + gsasl_strerror_name(rc) + ")";
}

SaslStep failed(std::string condition, std::string text, int code = 0) {
    SaslStep s;
    s.kind = SaslStep::Kind::failed;
    s.reason = Reason{"sasl", code, std::move(condition), std::move(text)};
    return s;
}

// The condition of a gsasl error. `verifying` is true when the input was the server's proof
// (SCRAM's server-final, DIGEST-MD5's rspauth): an authentication error there means the server
// does not know the password.
std::string condition_of(int rc, bool verifying) {
    switch (rc) {
    case GSASL_AUTHENTICATION_ERROR:
        return verifying ? "server-signature-mismatch" : "malformed-challenge";
    case GSASL_MECHANISM_PARSE_ERROR:
        return "malformed-challenge";
    case GSASL_MECHANISM_CALLED_TOO_MANY_TIMES:
        return "unexpected-challenge";
    case GSASL_UNKNOWN_MECHANISM:
        return "unsupported-mechanism";
    case GSASL_NO_CB_TLS_UNIQUE:
    case GSASL_NO_CB_TLS_EXPORTER:
        return "channel-binding-unavailable";
    case GSASL_NO_AUTHID:
    case GSASL_NO_AUTHZID:
    case GSASL_NO_PASSWORD:
    case GSASL_NO_ANONYMOUS_TOKEN:
    case GSASL_NO_SERVICE:
    case GSASL_NO_HOSTNAME:
        return "missing-credentials";
    case GSASL_SASLPREP_ERROR:
        return "invalid-credentials";
    default:
        return "sasl-error";
    }
}

// The state of one client exchange. The gsasl session's hook points here, so that the
// process-wide callback answers from the options of the client that owns the session.
class ClientSession {
public:
    explicit ClientSession(SaslOptions options) : options_(std::move(options)) {}
    ~ClientSession() {
        if (session_ != nullptr) {
            gsasl_finish(session_);
        }
    }
    ClientSession(const ClientSession&) = delete;
    ClientSession& operator=(const ClientSession&) = delete;

    const SaslOptions& options() const { return options_; }
    const std::string& mechanism() const { return mechanism_; }

    SaslStep start(const std::string& mech, const std::pair<std::string, std::string>& binding);
    SaslStep step(std::string_view challenge);
    std::function<void()> precompute(std::string_view challenge);
    SaslStep finish(std::string_view additional);
    int answer(Gsasl_session* sctx, Gsasl_property prop);

private:
    SaslStep run(std::string_view input, bool verifying, std::string_view what);
    SaslStep fail(std::string condition, std::string text, int code = 0) {
        failed_ = true;
        return failed(std::move(condition), std::move(text), code);
    }
    std::optional<SaslStep> unusable(std::string_view call) const;
    int set(Gsasl_session* sctx, Gsasl_property prop, const std::string& value) const;
    int answer_realm(Gsasl_session* sctx) const;
    int answer_binding(Gsasl_session* sctx, Gsasl_property prop, std::string_view type) const;
    int answer_salted_password(Gsasl_session* sctx) const;
    std::optional<SaltedPasswordCache::Key> cache_key(Gsasl_session* sctx) const;
    void remember_salted_password() const;

    SaslOptions options_;
    std::string mechanism_;
    std::pair<std::string, std::string> binding_; // only for a -PLUS mechanism
    Gsasl_session* session_ = nullptr;
    std::shared_ptr<Derived> derived_; // from precompute(), once its work has run
    int challenges_ = 0;               // challenges processed by step()
    bool complete_ = false;            // gsasl returned GSASL_OK: nothing more to verify
    bool failed_ = false;
};

int on_property(Gsasl* /*ctx*/, Gsasl_session* sctx, Gsasl_property prop) {
    // No exception may cross into gsasl.
    try {
        auto* self = static_cast<ClientSession*>(gsasl_session_hook_get(sctx));
        if (self == nullptr) {
            return GSASL_NO_CALLBACK;
        }
        return self->answer(sctx, prop);
    } catch (...) {
        return GSASL_MALLOC_ERROR;
    }
}

int ClientSession::set(Gsasl_session* sctx, Gsasl_property prop, const std::string& value) const {
    if (value.empty()) {
        return GSASL_NO_CALLBACK; // gsasl then reports which credential is missing
    }
    return gsasl_property_set_raw(sctx, prop, value.data(), value.size());
}

int ClientSession::answer(Gsasl_session* sctx, Gsasl_property prop) {
    switch (prop) {
    case GSASL_AUTHID:
        return set(sctx, prop, options_.username);
    case GSASL_PASSWORD:
        return set(sctx, prop, options_.password);
    case GSASL_AUTHZID:
        return set(sctx, prop, options_.authzid);
    case GSASL_SERVICE:
        return set(sctx, prop, options_.service);
    case GSASL_HOSTNAME:
        return set(sctx, prop, options_.hostname);
    case GSASL_ANONYMOUS_TOKEN:
        // RFC 4505's trace token: informational only.
        return set(sctx, prop, options_.username.empty() ? "pcj" : options_.username);
    case GSASL_REALM:
        return answer_realm(sctx);
    case GSASL_QOP:
        // Integrity and confidentiality layers are TLS's job, never DIGEST-MD5's.
        return set(sctx, prop, "qop-auth");
    case GSASL_CB_TLS_EXPORTER:
        return answer_binding(sctx, prop, tls_exporter);
    case GSASL_CB_TLS_UNIQUE:
        return answer_binding(sctx, prop, tls_unique);
    case GSASL_SCRAM_SALTED_PASSWORD:
        return answer_salted_password(sctx);
    default:
        return GSASL_NO_CALLBACK;
    }
}

// gsasl's DIGEST-MD5 client stores the first realm the server offered in GSASL_REALM before it
// asks; keep that one (RFC 2831 §2.1.2: the realm SHOULD be one of those offered). When the
// server offered none, the XMPP domain is the realm of the account.
int ClientSession::answer_realm(Gsasl_session* sctx) const {
    const char* offered = gsasl_property_fast(sctx, GSASL_REALM);
    if (offered != nullptr && *offered != '\0') {
        return GSASL_OK;
    }
    return set(sctx, GSASL_REALM, options_.hostname);
}

// Channel binding data goes only to a -PLUS mechanism and only for its own type. gsasl 2.2
// asks for it with plain SCRAM too, to send the "y" GS2 flag, but then fails to build the
// message; so plain SCRAM always says "n" (this client does not bind on this exchange).
int ClientSession::answer_binding(Gsasl_session* sctx, Gsasl_property prop,
                                  std::string_view type) const {
    if (!is_plus(mechanism_) || binding_.first != type || binding_.second.empty()) {
        return GSASL_NO_CALLBACK;
    }
    char* encoded = nullptr;
    const int rc =
        gsasl_base64_to(binding_.second.data(), binding_.second.size(), &encoded, nullptr);
    if (rc != GSASL_OK) {
        return rc;
    }
    const GsaslString owned(encoded);
    return gsasl_property_set(sctx, prop, owned.get());
}

// gsasl's SCRAM client exposes the server's salt and iteration count as properties just before
// it asks for the salted password.
std::optional<SaltedPasswordCache::Key> ClientSession::cache_key(Gsasl_session* sctx) const {
    const char* salt = gsasl_property_fast(sctx, GSASL_SCRAM_SALT);
    const char* iterations = gsasl_property_fast(sctx, GSASL_SCRAM_ITER);
    if (!is_scram(mechanism_) || salt == nullptr || iterations == nullptr ||
        options_.password.empty()) {
        return std::nullopt;
    }
    std::string digest = password_digest(options_.password);
    if (digest.empty()) {
        return std::nullopt;
    }
    return SaltedPasswordCache::Key{scram_hash(mechanism_),
                                    options_.username,
                                    options_.hostname,
                                    std::move(digest),
                                    salt,
                                    iterations};
}

int ClientSession::answer_salted_password(Gsasl_session* sctx) const {
    const auto key = cache_key(sctx);
    if (!key) {
        return GSASL_NO_CALLBACK;
    }
    if (derived_ && !derived_->salted_hex.empty() && derived_->salt_text == key->salt &&
        derived_->iterations_text == key->iterations) {
        return gsasl_property_set(sctx, GSASL_SCRAM_SALTED_PASSWORD, derived_->salted_hex.c_str());
    }
    const auto salted = salted_password_cache().find(*key);
    if (!salted) {
        return GSASL_NO_CALLBACK; // gsasl derives it from the password
    }
    return gsasl_property_set(sctx, GSASL_SCRAM_SALTED_PASSWORD, salted->c_str());
}

// Called once the server has proved itself, so a value from a failed exchange never enters.
void ClientSession::remember_salted_password() const {
    if (!is_scram(mechanism_)) {
        return;
    }
    const char* salted = gsasl_property_fast(session_, GSASL_SCRAM_SALTED_PASSWORD);
    auto key = cache_key(session_);
    if (salted == nullptr || !key) {
        return;
    }
    salted_password_cache().store(std::move(*key), salted);
}

// A call out of order fails without touching gsasl.
std::optional<SaslStep> ClientSession::unusable(std::string_view call) const {
    if (failed_) {
        return failed("sasl-error", std::string(call) + " after the exchange failed");
    }
    if (session_ == nullptr) {
        return failed("sasl-error", std::string(call) + " before start()");
    }
    return std::nullopt;
}

SaslStep ClientSession::run(std::string_view input, bool verifying, std::string_view what) {
    char* out = nullptr;
    std::size_t out_len = 0;
    const int rc = gsasl_step(session_, input.data(), input.size(), &out, &out_len);
    const GsaslString owned(out);
    if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE) {
        return fail(condition_of(rc, verifying),
                    mechanism_ + ": " + std::string(what) + ": " + gsasl_text(rc), rc);
    }
    SaslStep s;
    s.kind = SaslStep::Kind::respond;
    if (out != nullptr) {
        s.data.assign(out, out_len);
    }
    if (rc == GSASL_OK) {
        complete_ = true;
        remember_salted_password();
    }
    return s;
}

SaslStep ClientSession::start(const std::string& mech,
                              const std::pair<std::string, std::string>& binding) {
    if (session_ != nullptr || failed_) {
        return fail("sasl-error", "start() called twice on one SASL client");
    }
    Gsasl* ctx = gsasl_context();
    if (ctx == nullptr) {
        return fail("sasl-error", "GNU SASL could not be initialised");
    }
    if (is_plus(mech)) {
        if (binding.first.empty() || binding.second.empty()) {
            return fail("channel-binding-unavailable", mech + " needs channel binding data");
        }
        if (binding.first != tls_exporter && binding.first != tls_unique) {
            return fail("channel-binding-unavailable",
                        mech + ": unsupported channel binding type " + binding.first);
        }
        binding_ = binding;
    }
    mechanism_ = mech;
    const int rc = gsasl_client_start(ctx, mech.c_str(), &session_);
    if (rc != GSASL_OK) {
        session_ = nullptr;
        return fail(condition_of(rc, false), mech + ": " + gsasl_text(rc), rc);
    }
    gsasl_session_hook_set(session_, this);
    return run({}, false, "initial response");
}

SaslStep ClientSession::step(std::string_view challenge) {
    if (auto refused = unusable("step()")) {
        return *refused;
    }
    if (is_scram(mechanism_) && challenges_ == 0) {
        std::string no = iteration_refusal(challenge, options_.max_scram_iterations);
        if (!no.empty()) {
            return fail("iteration-count-refused", mechanism_ + ": " + no);
        }
    }
    // SCRAM's second challenge is the server-final message, DIGEST-MD5's carries rspauth.
    const bool verifying = expects_server_proof(mechanism_) && challenges_ >= 1;
    ++challenges_;
    return run(challenge, verifying, "challenge");
}

std::function<void()> ClientSession::precompute(std::string_view challenge) {
    if (unusable("precompute()") || !is_scram(mechanism_) || challenges_ != 0 ||
        options_.password.empty() ||
        !iteration_refusal(challenge, options_.max_scram_iterations).empty()) {
        return {};
    }
    const ServerFirst first = server_first_fields(challenge);
    const std::string hash_name = scram_hash(mechanism_);
    const std::string digest = password_digest(options_.password);
    if (first.salt.empty() || first.iterations.empty() || digest.empty() ||
        (hash_name != "SHA-1" && hash_name != "SHA-256")) {
        return {};
    }
    const SaltedPasswordCache::Key key{hash_name, options_.username, options_.hostname,
                                       digest,    first.salt,        first.iterations};
    if (salted_password_cache().find(key)) {
        return {};
    }
    char* salt = nullptr;
    std::size_t salt_len = 0;
    if (gsasl_base64_from(first.salt.data(), first.salt.size(), &salt, &salt_len) != GSASL_OK) {
        return {};
    }
    const GsaslString owned(salt);
    auto d = std::make_shared<Derived>(
        Derived{hash_name == "SHA-1" ? GSASL_HASH_SHA1 : GSASL_HASH_SHA256,
                options_.password,
                std::string(salt, salt_len),
                first.salt,
                first.iterations,
                static_cast<unsigned>(std::stoul(first.iterations)),
                {}});
    derived_ = d;
    return [d] {
        derive(*d);
    };
}

SaslStep ClientSession::finish(std::string_view additional) {
    if (auto refused = unusable("finish()")) {
        return *refused;
    }
    if (!additional.empty()) {
        if (complete_) {
            return fail("unexpected-success-data",
                        mechanism_ + ": <success/> carries data after the exchange completed");
        }
        SaslStep s = run(additional, expects_server_proof(mechanism_), "data with <success/>");
        if (s.kind == SaslStep::Kind::failed) {
            return s;
        }
    }
    if (!complete_) {
        if (is_scram(mechanism_)) {
            return fail("server-signature-missing",
                        mechanism_ + ": <success/> without the server signature: the server "
                                     "did not prove it knows the password");
        }
        if (mechanism_ == "DIGEST-MD5") {
            return fail("server-signature-missing",
                        "DIGEST-MD5: <success/> before the server sent rspauth: the server did "
                        "not prove it knows the password");
        }
        return fail("sasl-error", mechanism_ + ": <success/> before the exchange completed");
    }
    SaslStep done;
    done.kind = SaslStep::Kind::done;
    return done;
}

// Why one offered mechanism is refused, or empty when it is acceptable.
std::string refusal(std::string_view mech, const SaslOptions& o, bool encrypted,
                    bool channel_binding_available) {
    const std::string m(mech);
    const bool listed = contains(o.allowed, mech);
    if (!o.allowed.empty() && !listed) {
        return m + " is not in the configured mechanisms";
    }
    if (is_plus(mech) && !channel_binding_available) {
        return m + " needs TLS channel binding";
    }
    if (mech == "EXTERNAL" && !listed) {
        return "EXTERNAL needs a client certificate and must be allowed explicitly";
    }
    if (mech == "ANONYMOUS" && !listed) {
        return "ANONYMOUS must be allowed explicitly";
    }
    if (is_password_mechanism(mech) && !encrypted && !o.allow_plaintext_password) {
        return m + " needs an encrypted stream (allow_plaintext_password is off)";
    }
    return {};
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out.append(sep);
        }
        out.append(item);
    }
    return out;
}

std::string no_acceptable_text(const std::vector<std::string>& offered,
                               const std::vector<std::string>& reasons) {
    if (offered.empty()) {
        return "the server offers no SASL mechanism";
    }
    return "the server offers " + join(offered, ", ") +
           "; pcj accepts none of them: " + join(reasons, "; ");
}

} // namespace

struct SaslClient::Impl {
    explicit Impl(SaslOptions options) : session(std::move(options)) {}
    ClientSession session;
};

std::vector<std::string> SaslClient::preference() {
    static const std::vector<std::string> supported = [] {
        std::vector<std::string> out;
        Gsasl* ctx = gsasl_context();
        for (std::string_view mech : known_sasl_mechanisms) {
            const std::string name(mech);
            if (ctx != nullptr && gsasl_client_support_p(ctx, name.c_str()) != 0) {
                out.push_back(name);
            }
        }
        return out;
    }();
    return supported;
}

SaslClient::SaslClient(SaslOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
SaslClient::~SaslClient() = default;

std::optional<std::string> SaslClient::choose(const std::vector<std::string>& offered,
                                              bool encrypted, bool channel_binding_available,
                                              Reason* why) const {
    const SaslOptions& o = impl_->session.options();
    const std::vector<std::string> ours = preference();
    std::vector<std::string> reasons;
    for (const auto& mech : ours) {
        if (!contains(offered, mech)) {
            continue;
        }
        std::string no = refusal(mech, o, encrypted, channel_binding_available);
        if (no.empty()) {
            return mech;
        }
        reasons.push_back(std::move(no));
    }
    for (const auto& mech : offered) {
        if (!contains(ours, mech)) {
            reasons.push_back(mech + " is not a mechanism pcj supports");
        }
    }
    if (why != nullptr) {
        *why = Reason{"sasl", 0, "no-acceptable-mechanism", no_acceptable_text(offered, reasons)};
    }
    return std::nullopt;
}

SaslStep SaslClient::start(const std::string& mechanism,
                           const std::pair<std::string, std::string>& channel_binding) {
    return impl_->session.start(mechanism, channel_binding);
}

std::function<void()> SaslClient::precompute(std::string_view challenge) {
    return impl_->session.precompute(challenge);
}

SaslStep SaslClient::step(std::string_view challenge) {
    return impl_->session.step(challenge);
}

SaslStep SaslClient::finish(std::string_view additional_data) {
    return impl_->session.finish(additional_data);
}

const std::string& SaslClient::mechanism() const {
    return impl_->session.mechanism();
}

} // namespace pcj::detail
