// XMPP client negotiation (RFC 6120 §5-7, RFC 3921 §3) as a state machine.
#include "xmpp.hpp"

#include "ids.hpp"
#include "pcj/events.hpp"
#include "starttls.hpp"

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

XmppProtocol::XmppProtocol(ProtocolHost& host) : host_(host), resource_(host.config().resource) {}

XmppProtocol::~XmppProtocol() = default;

void XmppProtocol::on_connected() {
    host_.send_stream_header();
}

void XmppProtocol::on_stream_start(const Node& header) {
    (void)header; // the stream id is kept by the core (sid())
}

void XmppProtocol::on_node(const Node& node) {
    if (state_ == State::done || state_ == State::failed) {
        return;
    }
    if (is_stream_error(node)) {
        fail(stage_event(), stream_error_reason(node));
        return;
    }
    const auto local = node.local_name();
    if (local == "features" && node.prefix() == "stream") {
        if (report_features(host_, node)) {
            on_features(node);
        }
    } else if (state_ == State::proceed && node.ns() == ns_tls) {
        state_ = State::tls;
        Reason why;
        if (!proceed_with_tls(host_, node, "server", &why)) {
            fail(ev::SSLFAIL, std::move(why));
        }
    } else if (state_ == State::sasl && node.ns() == ns_sasl) {
        on_sasl(node);
    } else if (node.ns() == ns_sm) {
        on_sm(node);
    }
    // Anything else while negotiating is not ours to handle and is ignored.
}

void XmppProtocol::on_features(const Node& features) {
    if (state_ != State::features) {
        return;
    }
    if (!authenticated_) {
        negotiate_tls_or_sasl(features);
    } else {
        after_authentication(features);
    }
}

void XmppProtocol::negotiate_tls_or_sasl(const Node& features) {
    switch (starttls_step(host_, features, "server")) {
    case TlsStep::negotiate:
        state_ = State::proceed;
        request_starttls(host_);
        return;
    case TlsStep::refuse:
        fail(ev::SSLFAIL, {"starttls", 0, "tls-not-offered",
                           "TLS is required but the server does not offer STARTTLS; "
                           "no credentials were sent"});
        return;
    case TlsStep::clear:
        if (!host_.current()) {
            return;
        }
        break;
    }
    const Node* mechanisms = features.child("mechanisms", ns_sasl);
    if (mechanisms == nullptr) {
        fail(ev::AUTHFAIL,
             {"sasl", 0, "no-mechanisms", "the server offers no SASL authentication"});
        return;
    }
    sasl_ = std::make_unique<SaslExchange>(host_, "server");
    state_ = State::sasl;
    Reason why;
    if (sasl_->start(*mechanisms, usable_binding(features), &why) ==
        SaslExchange::Outcome::failed) {
        fail(ev::AUTHFAIL, std::move(why));
    }
}

void XmppProtocol::on_sasl(const Node& node) {
    Reason why;
    switch (sasl_->handle(node, &why)) {
    case SaslExchange::Outcome::pending:
        return;
    case SaslExchange::Outcome::failed:
        fail(ev::AUTHFAIL, std::move(why));
        return;
    case SaslExchange::Outcome::succeeded:
        authenticated_ = true;
        state_ = State::features;
        host_.emit(ev::AUTHSUCCESS);
        if (host_.current()) {
            host_.send_stream_header(); // RFC 6120 §6.4.6: restart the stream
        }
        return;
    }
}

// Channel binding for -PLUS mechanisms. XEP-0440 lets the server list the types it supports;
// without that list, tls-unique (the RFC 5802 default, TLS 1.2) is assumed, but tls-exporter
// (TLS 1.3, RFC 9266) is not: servers of the ejabberd 23.01 generation compute something else
// on TLS 1.3 and would refuse the login. Then a SCRAM mechanism without -PLUS is used.
std::pair<std::string, std::string> XmppProtocol::usable_binding(const Node& features) const {
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
        state_ = State::resuming;
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
void XmppProtocol::on_sm(const Node& node) {
    StreamManagementHost* sm = host_.stream_management();
    const auto local = node.local_name();
    if (sm == nullptr || (state_ != State::resuming && state_ != State::enabling)) {
        return;
    }
    if (state_ == State::resuming && local == "resumed") {
        jid_ = sm->resumed(node);
        if (host_.current()) {
            host_.set_jid(jid_);
            state_ = State::done;
            host_.ready();
        }
    } else if (state_ == State::resuming && local == "failed") {
        sm->resume_failed(&node);
        if (host_.current()) {
            start_bind();
        }
    } else if (state_ == State::enabling && local == "enabled") {
        sm->enabled(node, jid_);
        if (host_.current()) {
            state_ = State::done;
            host_.ready();
        }
    } else if (state_ == State::enabling && local == "failed") {
        host_.log(LogLevel::warning, "the server refused to enable stream management");
        state_ = State::done;
        host_.ready();
    }
}

// After binding (and the session): XEP-0198's <enable/> where offered, else READY now.
void XmppProtocol::enable_or_ready() {
    const auto& cfg = host_.config().stream_management;
    if (host_.stream_management() != nullptr && sm_offered_ && cfg.enabled) {
        state_ = State::enabling;
        Node enable("enable", std::string(ns_sm));
        if (cfg.resume) {
            enable.set_attr("resume", "true");
        }
        host_.send(enable);
        return;
    }
    state_ = State::done;
    host_.ready();
}

void XmppProtocol::start_bind() {
    if (!bind_offered_) {
        fail(ev::BINDFAIL, {"bind", 0, "feature-not-offered",
                            "the server offers no resource binding after authentication"});
        return;
    }
    state_ = State::binding;
    host_.emit(ev::BINDNEGOTIATE);
    if (host_.current()) {
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
    host_.request(std::move(iq), [this](const Event& e) { on_bind_reply(e); });
}

void XmppProtocol::on_bind_reply(const Event& e) {
    if (state_ != State::binding || e.node == nullptr) {
        return;
    }
    const Node& reply = *e.node;
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
        host_.emit(ev::BINDSUCCESS);
        if (!host_.current()) {
            return;
        }
        if (session_needed_) {
            state_ = State::session;
            host_.emit(ev::SESSIONNEGOTIATE);
            if (!host_.current()) {
                return;
            }
            Node iq("iq");
            iq.set_attr("type", "set");
            iq.add_child("session", std::string(ns_session));
            host_.request(std::move(iq), [this](const Event& ev) { on_session_reply(ev); });
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

void XmppProtocol::on_session_reply(const Event& e) {
    if (state_ != State::session || e.node == nullptr) {
        return;
    }
    if (e.node->attr("type") == "result") {
        state_ = State::done;
        host_.emit(ev::SESSIONSUCCESS);
        if (host_.current()) {
            enable_or_ready();
        }
        return;
    }
    fail(ev::SESSIONFAIL, stanza_error_reason(*e.node, "session"));
}

void XmppProtocol::on_tls_established() {
    if (state_ != State::tls) {
        return;
    }
    tls_done_ = true;
    state_ = State::features;
    restart_stream_over_tls(host_);
}

void XmppProtocol::on_tls_failed(const Reason& reason) {
    if (state_ == State::done || state_ == State::failed) {
        return;
    }
    state_ = State::failed;
    host_.emit(ev::SSLFAIL, &reason);
}

void XmppProtocol::on_stream_end() {
    fail_here("stream-closed", "the server closed the stream during negotiation");
}

void XmppProtocol::on_connection_lost(const Reason& reason) {
    if (state_ == State::done || state_ == State::failed) {
        return;
    }
    const auto event = stage_event();
    state_ = State::failed;
    Reason copy = reason;
    if (copy.condition.empty()) {
        copy.condition = "connection-lost";
    }
    host_.emit(event, &copy);
}

void XmppProtocol::on_timeout() {
    fail_here("timeout", "the server did not complete this negotiation step in time");
}

std::string_view XmppProtocol::stage_event() const {
    switch (state_) {
    case State::proceed:
    case State::tls:
        return ev::SSLFAIL;
    case State::resuming:
    case State::binding:
        return ev::BINDFAIL;
    case State::session:
    case State::enabling:
        return ev::SESSIONFAIL;
    case State::features:
        return authenticated_ ? ev::BINDFAIL : ev::AUTHFAIL;
    default:
        return ev::AUTHFAIL;
    }
}

void XmppProtocol::fail_here(std::string condition, std::string text) {
    fail(stage_event(), Reason{"negotiate", 0, std::move(condition), std::move(text)});
}

void XmppProtocol::fail(std::string_view event, Reason reason) {
    if (state_ == State::done || state_ == State::failed) {
        return;
    }
    state_ = State::failed;
    host_.fail(event, std::move(reason));
}

PCJ_REGISTER_PROTOCOL(ConnectionType::XMPP, XmppProtocol, nullptr)

} // namespace pcj::detail
