// JABBERD20_COMPONENT (jabberd2 router component protocol) as a state machine.
#include "j2.hpp"

#include <cstdlib>
#include <vector>

#include "pcj/events.hpp"
#include "pcj/route.hpp"
#include "starttls.hpp"

namespace pcj::detail {

namespace {
// What the router's numeric bind errors mean (jabberd2 router.c).
std::string bind_error_text(const std::string& code, const Config& c) {
    const std::string name = "'" + c.bind_domain + "'";
    if (code == "409") {
        return "the router refused to bind " + name + ": another component has bound it";
    }
    if (code == "403") {
        return "the router refused to bind " + name + ": user '" + c.username +
               "' may not bind that name (no bind ACL)";
    }
    if (code == "400") {
        return "the router refused to bind " + name + ": bad request";
    }
    return "the router refused to bind " + name + " (error " + code + ")";
}
} // namespace

J2Protocol::J2Protocol(ProtocolHost& host) : host_(host) {}

J2Protocol::~J2Protocol() = default;

void J2Protocol::on_connected() {
    host_.send_stream_header();
}

void J2Protocol::on_stream_start(const Node& header) {
    (void)header; // the stream id is kept by the core (sid())
}

void J2Protocol::on_node(const Node& node) {
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
        if (!proceed_with_tls(host_, node, "router", &why)) {
            fail(ev::SSLFAIL, std::move(why));
        }
    } else if (state_ == State::sasl && node.ns() == ns_sasl) {
        on_sasl(node);
    } else if (state_ == State::binding && local == "bind") {
        // Replies carrying our id never get here. One without it cannot be told apart from a
        // stray element, so the negotiation timeout ends the wait (PCJ waited forever).
        host_.log(LogLevel::warning, "ignoring a <bind/> reply without the request's id");
    }
}

void J2Protocol::on_features(const Node& features) {
    if (state_ != State::features) {
        return;
    }
    if (authenticated_) {
        start_bind(); // the router's post-authentication features are empty
        return;
    }
    switch (starttls_step(host_, features, "router")) {
    case TlsStep::negotiate:
        state_ = State::proceed;
        request_starttls(host_);
        return;
    case TlsStep::refuse:
        fail(ev::SSLFAIL, {"starttls", 0, "tls-not-offered",
                           "TLS is required but the router does not offer STARTTLS (it has "
                           "no pemfile); no credentials were sent"});
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
             {"sasl", 0, "no-mechanisms", "the router offers no SASL authentication"});
        return;
    }
    // The router cannot check a channel binding: no -PLUS.
    sasl_ = std::make_unique<SaslExchange>(host_, "router");
    state_ = State::sasl;
    Reason why;
    if (sasl_->start(*mechanisms, {}, &why) == SaslExchange::Outcome::failed) {
        fail(ev::AUTHFAIL, std::move(why));
    }
}

void J2Protocol::on_sasl(const Node& node) {
    Reason why;
    switch (sasl_->handle(node, &why)) {
    case SaslExchange::Outcome::pending:
        return;
    case SaslExchange::Outcome::failed:
        fail(ev::AUTHFAIL, std::move(why));
        return;
    case SaslExchange::Outcome::succeeded:
        // The router puts DIGEST-MD5's rspauth in <success/>; the exchange has checked it.
        authenticated_ = true;
        state_ = State::features;
        host_.emit(ev::AUTHSUCCESS);
        if (host_.current()) {
            host_.send_stream_header(); // restart the stream, as after SASL in RFC 6120 §6.4.6
        }
        return;
    }
}

void J2Protocol::start_bind() {
    const Config& c = host_.config();
    state_ = State::binding;
    host_.emit(ev::BINDNEGOTIATE);
    if (!host_.current()) {
        return;
    }
    Node bind("bind", std::string(jabberd2_component_ns));
    bind.set_attr("name", c.bind_domain);
    if (!c.bind_option.empty()) {
        bind.add_child(c.bind_option); // e.g. <log/> or <default/>
    }
    host_.request(std::move(bind), [this](const Event& e) { on_bind_reply(e); });
}

void J2Protocol::on_bind_reply(const Event& e) {
    if (state_ != State::binding || e.node == nullptr) {
        return;
    }
    const Config& c = host_.config();
    if (const std::string* error = e.node->find_attr("error")) {
        fail(ev::BINDFAIL, {"bind", std::atoi(error->c_str()), *error, bind_error_text(*error, c)});
        return;
    }
    state_ = State::done;
    host_.set_jid(c.bind_domain);
    // The router now routes the bound name to us: jabberd2's counterpart of XEP-0114's
    // accepted <handshake/>.
    host_.emit(xs::SUCCESS_HANDSHAKE, nullptr, e.node);
    if (!host_.current()) {
        return;
    }
    host_.emit(ev::BINDSUCCESS);
    if (host_.current()) {
        host_.ready();
    }
}

void J2Protocol::on_tls_established() {
    if (state_ != State::tls) {
        return;
    }
    state_ = State::features;
    restart_stream_over_tls(host_);
}

void J2Protocol::on_tls_failed(const Reason& reason) {
    if (state_ == State::done || state_ == State::failed) {
        return;
    }
    state_ = State::failed;
    host_.emit(ev::SSLFAIL, &reason);
}

void J2Protocol::on_stream_end() {
    fail(stage_event(),
         {"negotiate", 0, "stream-closed", "the router closed the stream during negotiation"});
}

void J2Protocol::on_connection_lost(const Reason& reason) {
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

void J2Protocol::on_timeout() {
    const std::string text =
        state_ == State::binding
            ? "the router did not answer the bind of '" + host_.config().bind_domain + "' in time"
            : "the router did not complete this negotiation step in time";
    fail(stage_event(), {"negotiate", 0, "timeout", text});
}

std::string_view J2Protocol::stage_event() const {
    switch (state_) {
    case State::proceed:
    case State::tls:
        return ev::SSLFAIL;
    case State::binding:
        return ev::BINDFAIL;
    case State::features:
        return authenticated_ ? ev::BINDFAIL : ev::AUTHFAIL;
    default:
        return ev::AUTHFAIL;
    }
}

void J2Protocol::fail(std::string_view event, Reason reason) {
    if (state_ == State::done || state_ == State::failed) {
        return;
    }
    state_ = State::failed;
    host_.fail(event, std::move(reason));
}

namespace {
// A jabberd2 <route/> carries one stanza; a reply echoes that stanza's id, not the route's.
const Node* route_envelope_payload(const Node& node) {
    return route_payload(node);
}
} // namespace

PCJ_REGISTER_PROTOCOL(ConnectionType::JABBERD20_COMPONENT, J2Protocol, route_envelope_payload)

} // namespace pcj::detail
