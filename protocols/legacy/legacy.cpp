// LEGACY (XEP-0078 jabber:iq:auth, with RFC 6120 STARTTLS) as a state machine.
#include "legacy.hpp"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "digest.hpp"
#include "pcj/events.hpp"
#include "starttls.hpp"

namespace pcj::detail {

namespace {
constexpr std::string_view ns_auth = "jabber:iq:auth";
constexpr std::string_view ns_stanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";

// XEP-0086: the conditions of the old numeric error codes that pre-XMPP servers still send
// alone (jabberd2 answers a wrong password with <error code='401'/>).
std::string condition_of_code(std::string_view code) {
    static constexpr std::pair<std::string_view, std::string_view> table[] = {
        {"400", "bad-request"},
        {"401", "not-authorized"},
        {"403", "forbidden"},
        {"404", "item-not-found"},
        {"405", "not-allowed"},
        {"406", "not-acceptable"},
        {"407", "registration-required"},
        {"409", "conflict"},
        {"500", "internal-server-error"},
        {"501", "feature-not-implemented"},
        {"503", "service-unavailable"},
    };
    for (const auto& [number, condition] : table) {
        if (number == code) {
            return std::string(condition);
        }
    }
    return "undefined-condition";
}

// The condition, code and text of an <iq type='error'/>, from the RFC 6120 §8.3 condition or,
// failing that, the XEP-0086 code. The echoed query (which may hold our password) is not read.
Reason iq_error_reason(const Node& iq) {
    Reason r{"iq:auth", 0, "", ""};
    const Node* error = iq.child("error");
    if (error != nullptr) {
        for (const Node* c : error->elements()) {
            if (c->local_name() == "text") {
                r.text = c->text();
            } else if (r.condition.empty() && c->ns() == ns_stanzas) {
                r.condition = std::string(c->local_name());
            }
        }
        const std::string code = error->attr("code");
        r.code = std::atoi(code.c_str());
        if (r.condition.empty() && !code.empty()) {
            r.condition = condition_of_code(code);
        }
    }
    if (r.condition.empty()) {
        r.condition = "undefined-condition";
    }
    if (r.text.empty()) {
        r.text = "the server refused the login: " + r.condition;
    }
    return r;
}

std::string offered_list(const Node* fields) {
    std::string out;
    if (fields != nullptr) {
        for (const Node* f : fields->elements()) {
            out += (out.empty() ? "" : ", ") + f->name();
        }
    }
    return out.empty() ? "nothing" : out;
}
} // namespace

LegacyProtocol::LegacyProtocol(ProtocolHost& host)
    : Negotiation(host, {.peer = "server", .activity = "the login"}) {}

void LegacyProtocol::on_stream_start(const Node& header) {
    if (!negotiating() || step_ != Step::header) {
        return;
    }
    stream_id_ = header.attr("id");
    const TlsPolicy policy = host_.config().tls.policy;
    if (host_.encrypted() || policy == TlsPolicy::disabled) {
        step_ = Step::get;
        if (announce(ev::AUTHNEGOTIATE)) {
            send_get(true);
        }
        return;
    }
    // An XMPP 1.0 server sends its features right after its header (RFC 6120 §4.3.2), and
    // ejabberd refuses anything before <starttls/> on a port that requires it: wait for them.
    if (std::atoi(header.attr("version").c_str()) >= 1) {
        step_ = Step::features;
        return;
    }
    // A pre-XMPP stream: whether STARTTLS is offered is known only once the probe is answered
    // (see the header).
    step_ = Step::probe;
    send_get(policy == TlsPolicy::optional);
}

void LegacyProtocol::send_get(bool with_username) {
    const bool probe = step_ == Step::probe;
    Node iq("iq");
    iq.set_attr("type", "get");
    Node& query = iq.add_child("query", std::string(ns_auth));
    if (with_username) {
        query.add_child("username").add_text(host_.config().username);
    }
    // A probe answered after STARTTLS began is dropped by request() or by the step check.
    request(std::move(iq), [this, probe](const Node& reply) {
        if (probe && step_ == Step::probe) {
            on_probe_reply(reply);
        } else if (!probe && step_ == Step::get) {
            on_get_reply(reply);
        }
    });
}

// No features came before the answer: they never will (see the header).
void LegacyProtocol::on_probe_reply(const Node& reply) {
    if (host_.config().tls.policy != TlsPolicy::optional) {
        tls_not_offered();
        return;
    }
    if (!downgrade_reported_) {
        downgrade_reported_ = true;
        report_downgrade(host_, peer());
        if (!host_.current()) {
            return;
        }
    }
    step_ = Step::get;
    if (announce(ev::AUTHNEGOTIATE)) {
        on_get_reply(reply);
    }
}

// Anything else while logging in (features after TLS, stray stanzas) is not ours.
void LegacyProtocol::on_features(const Node& features) {
    if (!report_features(host_, features) || !negotiating() ||
        (step_ != Step::probe && step_ != Step::features)) {
        return;
    }
    if (starttls_offered(features)) {
        begin_starttls();
        return;
    }
    if (host_.config().tls.policy != TlsPolicy::optional) {
        tls_not_offered();
        return;
    }
    // TLS optional and not offered: the login goes on in the clear (with the probe's answer).
    downgrade_reported_ = true;
    report_downgrade(host_, peer());
    if (step_ == Step::features && host_.current()) {
        step_ = Step::get;
        if (announce(ev::AUTHNEGOTIATE)) {
            send_get(true);
        }
    }
}

void LegacyProtocol::on_get_reply(const Node& reply) {
    const std::string type = reply.attr("type");
    if (type == "error") {
        fail(ev::AUTHFAIL, iq_error_reason(reply));
        return;
    }
    const Node* fields = reply.child("query", ns_auth);
    if (type != "result" || fields == nullptr) {
        fail(ev::AUTHFAIL, {"iq:auth", 0, "malformed-result",
                            "the server's answer to the iq:auth get carries no field list"});
        return;
    }
    Reason why;
    const Method method = choose(*fields, why);
    if (method == Method::none) {
        fail(ev::AUTHFAIL, std::move(why));
        return;
    }
    send_set(method);
}

bool LegacyProtocol::allowed(std::string_view method) const {
    const auto& list = host_.config().sasl.mechanisms;
    return list.empty() || std::find(list.begin(), list.end(), method) != list.end();
}

// <digest/> first: the password itself never leaves. <password/> only where it cannot be read.
LegacyProtocol::Method LegacyProtocol::choose(const Node& fields, Reason& why) const {
    const bool digest = fields.child("digest") != nullptr && !stream_id_.empty();
    const bool password = fields.child("password") != nullptr;
    if (digest && allowed("DIGEST")) {
        return Method::digest;
    }
    const bool clear_ok = host_.encrypted() || host_.config().sasl.allow_plaintext_password;
    if (password && allowed("PLAIN") && clear_ok) {
        return Method::password;
    }
    why = {"iq:auth", 0, "no-acceptable-mechanism", ""};
    if (password && allowed("PLAIN")) {
        why.text = "the server accepts only a plaintext <password/> and the stream is not "
                   "encrypted (allow_plaintext_password is off); no credentials were sent";
    } else {
        why.text = "no iq:auth method both sides accept: the server offers " +
                   offered_list(&fields) +
                   (allowed("DIGEST") && allowed("PLAIN")
                        ? std::string()
                        : std::string("; the configuration (sasl.mechanisms) allows only ") +
                              (allowed("DIGEST") ? "DIGEST" : "PLAIN"));
    }
    return Method::none;
}

void LegacyProtocol::send_set(Method method) {
    const Config& c = host_.config();
    method_ = method;
    step_ = Step::set;
    Node iq("iq");
    iq.set_attr("type", "set");
    Node& query = iq.add_child("query", std::string(ns_auth));
    query.add_child("username").add_text(c.username);
    if (method == Method::digest) {
        query.add_child("digest").add_text(handshake_digest(stream_id_, c.password));
    } else {
        query.add_child("password").add_text(c.password);
    }
    query.add_child("resource").add_text(c.resource);
    request(std::move(iq), [this](const Node& reply) { on_set_reply(reply); });
}

void LegacyProtocol::on_set_reply(const Node& reply) {
    if (step_ != Step::set) {
        return;
    }
    const std::string type = reply.attr("type");
    if (type == "error") {
        fail(ev::AUTHFAIL, iq_error_reason(reply));
        return;
    }
    const Node* form = reply.child("query", ns_auth);
    if (type != "result" || (form != nullptr && !form->elements().empty())) {
        std::string text = "the server answered the login with the authentication fields "
                           "again instead of accepting it: the session is not logged in";
        if (method_ == Method::digest) {
            text += " (the server does not really support <digest/>, as Prosody does not)";
        }
        fail(ev::AUTHFAIL, {"iq:auth", 0, "unexpected-result", std::move(text)});
        return;
    }
    const Config& c = host_.config();
    complete();
    host_.set_jid(c.username + "@" + c.hostname + "/" + c.resource);
    succeed(ev::AUTHSUCCESS);
}

void LegacyProtocol::tls_not_offered() {
    fail(ev::SSLFAIL,
         {"starttls", 0, "tls-not-offered",
          "TLS is required but the server does not offer STARTTLS (a server that answers "
          "without version 1.0 offers no features); no credentials were sent"});
}

// Until TLS is settled a failure belongs to TLS when TLS is required; after it, to the login.
std::string_view LegacyProtocol::step_failure_event() const {
    if (step_ != Step::header && step_ != Step::features && step_ != Step::probe) {
        return ev::AUTHFAIL;
    }
    const TlsPolicy policy = host_.config().tls.policy;
    const bool tls_pending =
        !host_.encrypted() && (policy == TlsPolicy::required || policy == TlsPolicy::direct);
    return tls_pending ? ev::SSLFAIL : ev::AUTHFAIL;
}

PCJ_REGISTER_PROTOCOL(ConnectionType::LEGACY, LegacyProtocol, nullptr)

} // namespace pcj::detail
