// XMPP client negotiation (RFC 6120 §5-7, RFC 3921 §3) as a state machine.
#include "xmpp.hpp"

#include "ids.hpp"
#include "pcj/events.hpp"

namespace pcj::detail {

namespace {
constexpr std::string_view ns_bind = "urn:ietf:params:xml:ns:xmpp-bind";
constexpr std::string_view ns_session = "urn:ietf:params:xml:ns:xmpp-session";
constexpr std::string_view ns_stanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";
constexpr std::string_view ns_sm = "urn:xmpp:sm:3";

// The defined condition and text of an <iq type='error'/> (RFC 6120 §8.3).
Reason stanza_error_reason(const Node& iq, std::string op) {
    Reason r;
    r.op = std::move(op);
    if (const Node* error = iq.child("error")) {
        for (const Node* c : error->elements()) {
            if (c->local_name() == "text") {
                r.text = c->text();
            } else if (r.condition.empty() && c->ns() == ns_stanzas) {
                r.condition = std::string(c->local_name());
            }
        }
        if (r.text.empty()) {
            r.text = "the server answered with an error (type " + error->attr("type") + ")";
        }
    }
    if (r.condition.empty()) {
        r.condition = "undefined-condition";
    }
    if (r.text.empty()) {
        r.text = "the server answered with an error";
    }
    return r;
}

} // namespace

// local@domain/resource (RFC 7622 §3.1): the resource starts at the first '/', the local part
// ends at the first '@' before it.
Jid split_jid(std::string_view full) {
    Jid jid;
    jid.full = std::string(full);
    const std::size_t slash = full.find('/');
    if (slash != std::string_view::npos) {
        jid.resource = std::string(full.substr(slash + 1));
        full = full.substr(0, slash);
    }
    const std::size_t at = full.find('@');
    if (at != std::string_view::npos) {
        jid.local = std::string(full.substr(0, at));
        full = full.substr(at + 1);
    }
    jid.domain = std::string(full);
    return jid;
}

XmppProtocol::XmppProtocol(ProtocolHost& host)
    : Negotiation(host, {.peer = "server", .activity = "the negotiation"}),
      resource_(host.config().resource) {}

XmppProtocol::~XmppProtocol() = default;

void XmppProtocol::on_features(const Node& features) {
    if (!report_features(host_, features) || !negotiating() || step_ != Step::features) {
        return;
    }
    if (authenticated()) {
        after_authentication(features);
    } else if (secure(features, "TLS is required but the server does not offer STARTTLS; no "
                                "credentials were sent")) {
        start_sasl(features);
    }
}

// Channel binding for -PLUS mechanisms. XEP-0440 lets the server list the types it supports;
// without that list, tls-unique (the RFC 5802 default, TLS 1.2) is assumed, but tls-exporter
// (TLS 1.3, RFC 9266) is not: servers of the ejabberd 23.01 generation compute something else
// on TLS 1.3 and would refuse the login. Then a SCRAM mechanism without -PLUS is used.
std::pair<std::string, std::string> XmppProtocol::sasl_binding(const Node& features) const {
    auto binding = host_.channel_binding();
    if (binding.first.empty()) {
        return {};
    }
    const Node* advertised = features.child("sasl-channel-binding", "urn:xmpp:sasl-cb:0");
    if (advertised == nullptr) {
        return binding.first == "tls-unique" ? binding : std::pair<std::string, std::string>{};
    }
    for (const Node* type : advertised->elements()) {
        if (type->local_name() == "channel-binding" && type->attr("type") == binding.first) {
            return binding;
        }
    }
    return {};
}

// Resumes the core's XEP-0198 session where it can; else settles what it left, and binds.
void XmppProtocol::after_authentication(const Node& features) {
    bind_offered_ = features.child("bind", ns_bind) != nullptr;
    if (const Node* session = features.child("session", ns_session)) {
        session_needed_ = session->child("optional") == nullptr;
    }
    sm_offered_ = features.child("sm", ns_sm) != nullptr;
    StreamManagementHost* sm = host_.stream_management();
    const auto& cfg = host_.config().stream_management;
    if (sm != nullptr && sm_offered_ && cfg.enabled && cfg.resume && !sm->resume_id().empty()) {
        step_ = Step::resuming;
        Node resume("resume", std::string(ns_sm));
        resume.set_attr("previd", sm->resume_id());
        resume.set_attr("h", std::to_string(sm->handled()));
        host_.send(resume);
        return;
    }
    if (sm != nullptr && sm->has_session()) {
        sm->resume_failed(nullptr); // its unacknowledged stanzas back to the queue
        if (!host_.current()) {
            return;
        }
    }
    start_bind();
}

// <resumed/> or <failed/> to <resume/>; <enabled/> or <failed/> to <enable/>.
void XmppProtocol::on_element(const Node& node) {
    StreamManagementHost* sm = host_.stream_management();
    if (sm == nullptr || node.ns() != ns_sm) {
        return; // anything else while negotiating is not ours to handle
    }
    if (step_ == Step::resuming) {
        on_resume_answer(*sm, node);
    } else if (step_ == Step::enabling) {
        on_enable_answer(*sm, node);
    }
}

void XmppProtocol::on_resume_answer(StreamManagementHost& sm, const Node& node) {
    if (node.local_name() == "resumed") {
        jid_ = sm.resumed(node);
        if (host_.current()) {
            host_.set_jid(jid_);
            succeed();
        }
    } else if (node.local_name() == "failed") {
        sm.resume_failed(&node);
        if (host_.current()) {
            start_bind();
        }
    }
}

void XmppProtocol::on_enable_answer(StreamManagementHost& sm, const Node& node) {
    if (node.local_name() == "enabled") {
        sm.enabled(node, jid_);
        if (host_.current()) {
            succeed();
        }
    } else if (node.local_name() == "failed") {
        host_.log(LogLevel::warning, "the server refused to enable stream management");
        succeed();
    }
}

// After binding (and the session): XEP-0198's <enable/> where offered, else READY now.
void XmppProtocol::enable_or_ready() {
    const auto& cfg = host_.config().stream_management;
    if (host_.stream_management() != nullptr && sm_offered_ && cfg.enabled) {
        step_ = Step::enabling;
        Node enable("enable", std::string(ns_sm));
        if (cfg.resume) {
            enable.set_attr("resume", "true");
        }
        host_.send(enable);
        return;
    }
    succeed();
}

void XmppProtocol::start_bind() {
    if (!bind_offered_) {
        fail(ev::BINDFAIL, {"bind", 0, "feature-not-offered",
                            "the server offers no resource binding after authentication"});
        return;
    }
    step_ = Step::binding;
    if (announce(ev::BINDNEGOTIATE)) {
        send_bind();
    }
}

void XmppProtocol::send_bind() {
    ++bind_attempts_;
    Node iq("iq");
    iq.set_attr("type", "set");
    Node& bind = iq.add_child("bind", std::string(ns_bind));
    if (!resource_.empty()) {
        bind.add_child("resource").add_text(resource_);
    }
    request(std::move(iq), [this](const Node& reply) { on_bind_reply(reply); });
}

void XmppProtocol::on_bind_reply(const Node& reply) {
    if (step_ != Step::binding) {
        return;
    }
    const std::string type = reply.attr("type");
    if (type == "result") {
        const Node* bind = reply.child("bind", ns_bind);
        const Node* jid = bind != nullptr ? bind->child("jid") : nullptr;
        if (jid == nullptr || jid->text().empty()) {
            fail(ev::BINDFAIL,
                 {"bind", 0, "malformed-result", "the server's bind result carries no <jid/>"});
            return;
        }
        jid_ = jid->text();
        host_.set_jid(jid_);
        if (host_.wanted(xs::BOUND_JID)) {
            host_.emit(xs::BOUND_JID, Payload(split_jid(jid->text())), &reply);
            if (!host_.current()) {
                return;
            }
        }
        if (!announce(ev::BINDSUCCESS)) {
            return;
        }
        if (session_needed_) {
            start_session();
            return;
        }
        enable_or_ready();
        return;
    }
    Reason r = stanza_error_reason(reply, "bind");
    if (type == "error" && r.condition == "conflict" &&
        bind_attempts_ <= host_.config().bind_retries) {
        host_.log(LogLevel::info, "resource '" + resource_ + "' is in use; binding another");
        resource_ = "pcj-" + random_hex(8);
        send_bind();
        return;
    }
    fail(ev::BINDFAIL, std::move(r));
}

void XmppProtocol::start_session() {
    step_ = Step::session;
    if (!announce(ev::SESSIONNEGOTIATE)) {
        return;
    }
    Node iq("iq");
    iq.set_attr("type", "set");
    iq.add_child("session", std::string(ns_session));
    request(std::move(iq), [this](const Node& reply) { on_session_reply(reply); });
}

void XmppProtocol::on_session_reply(const Node& reply) {
    if (step_ != Step::session) {
        return;
    }
    if (reply.attr("type") == "result") {
        if (announce(ev::SESSIONSUCCESS)) {
            enable_or_ready();
        }
        return;
    }
    fail(ev::SESSIONFAIL, stanza_error_reason(reply, "session"));
}

std::string_view XmppProtocol::step_failure_event() const {
    switch (step_) {
    case Step::resuming:
    case Step::binding:
        return ev::BINDFAIL;
    case Step::session:
    case Step::enabling:
        return ev::SESSIONFAIL;
    case Step::features:
        break;
    }
    return authenticated() ? ev::BINDFAIL : ev::AUTHFAIL;
}

PCJ_REGISTER_PROTOCOL(ConnectionType::XMPP, XmppProtocol, nullptr)

} // namespace pcj::detail
