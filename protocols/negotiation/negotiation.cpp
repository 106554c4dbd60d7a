// The negotiation skeleton: shared phases (STARTTLS, SASL), the guards and the one exit.
#include "negotiation.hpp"

#include "pcj/events.hpp"
#include "starttls.hpp"

namespace pcj::detail {

Negotiation::Negotiation(ProtocolHost& host, Wording wording) : host_(host), wording_(wording) {}

Negotiation::~Negotiation() = default;

void Negotiation::on_connected() {
    host_.send_stream_header();
}

void Negotiation::on_stream_start(const Node& header) {
    (void)header; // the stream id is kept by the core (sid())
}

void Negotiation::on_node(const Node& node) {
    if (finished()) {
        return;
    }
    if (is_stream_error(node)) {
        fail(failure_event(), stream_error_reason(node));
    } else if (node.local_name() == "features" && node.prefix() == "stream") {
        on_features(node);
    } else if (phase_ == Phase::tls_proceed && node.ns() == ns_tls) {
        on_tls_answer(node);
    } else if (phase_ == Phase::sasl && node.ns() == ns_sasl) {
        on_sasl(node);
    } else {
        on_element(node);
    }
}

void Negotiation::on_stream_end() {
    fail_here("stream-closed", "the " + std::string(wording_.peer) + " closed the stream during " +
                                   std::string(wording_.activity));
}

void Negotiation::on_connection_lost(const Reason& reason) {
    if (finished()) {
        return;
    }
    const auto event = failure_event();
    phase_ = Phase::failed;
    Reason copy = reason;
    if (copy.condition.empty()) {
        copy.condition = "connection-lost";
    }
    host_.emit(event, &copy);
}

void Negotiation::on_timeout() {
    fail_here("timeout", timeout_text());
}

std::string Negotiation::timeout_text() const {
    return "the " + std::string(wording_.peer) + " did not complete " +
           std::string(wording_.activity) + " in time";
}

std::pair<std::string, std::string> Negotiation::sasl_binding(const Node& features) const {
    (void)features;
    return {};
}

std::string_view Negotiation::failure_event() const {
    switch (phase_) {
    case Phase::tls_proceed:
    case Phase::tls_handshake:
        return ev::SSLFAIL;
    case Phase::negotiating:
        return step_failure_event();
    default:
        return ev::AUTHFAIL;
    }
}

void Negotiation::fail(std::string_view event, Reason reason) {
    if (finished()) {
        return;
    }
    phase_ = Phase::failed;
    host_.fail(event, std::move(reason));
}

void Negotiation::fail_here(std::string condition, std::string text) {
    fail(failure_event(),
         Reason{std::string(wording_.op), 0, std::move(condition), std::move(text)});
}

bool Negotiation::announce(std::string_view event, const Node* node) {
    host_.emit(event, nullptr, node);
    return host_.current();
}

void Negotiation::succeed(std::string_view event) {
    complete();
    if (event.empty() || announce(event)) {
        host_.ready();
    }
}

void Negotiation::request(Node node, std::function<void(const Node&)> on_reply) {
    host_.request(std::move(node), [this, on_reply = std::move(on_reply)](const Event& e) {
        if (e.node != nullptr && negotiating()) {
            on_reply(*e.node);
        }
    });
}

// STARTTLS ------------------------------------------------------------------------------------

bool Negotiation::secure(const Node& features, std::string refusal) {
    switch (starttls_step(host_, features, wording_.peer)) {
    case TlsStep::negotiate:
        begin_starttls();
        return false;
    case TlsStep::refuse:
        fail(ev::SSLFAIL, {"starttls", 0, "tls-not-offered", std::move(refusal)});
        return false;
    case TlsStep::clear:
        break;
    }
    return host_.current();
}

void Negotiation::begin_starttls() {
    phase_ = Phase::tls_proceed;
    request_starttls(host_);
}

void Negotiation::on_tls_answer(const Node& answer) {
    phase_ = Phase::tls_handshake;
    Reason why;
    if (!proceed_with_tls(host_, answer, wording_.peer, &why)) {
        fail(ev::SSLFAIL, std::move(why));
    }
}

void Negotiation::on_tls_established() {
    if (phase_ != Phase::tls_handshake) {
        return; // Direct TLS, up before the stream: nothing to restart
    }
    phase_ = Phase::negotiating;
    on_secured();
    restart_stream_over_tls(host_);
}

void Negotiation::on_tls_failed(const Reason& reason) {
    if (finished()) {
        return;
    }
    phase_ = Phase::failed;
    host_.emit(ev::SSLFAIL, &reason);
}

// SASL ----------------------------------------------------------------------------------------

void Negotiation::start_sasl(const Node& features) {
    const Node* mechanisms = features.child("mechanisms", ns_sasl);
    if (mechanisms == nullptr) {
        fail(ev::AUTHFAIL,
             {"sasl", 0, "no-mechanisms",
              "the " + std::string(wording_.peer) + " offers no SASL authentication"});
        return;
    }
    sasl_ = std::make_unique<SaslExchange>(host_, std::string(wording_.peer));
    phase_ = Phase::sasl;
    Reason why;
    if (sasl_->start(*mechanisms, sasl_binding(features), &why) == SaslExchange::Outcome::failed) {
        fail(ev::AUTHFAIL, std::move(why));
    }
}

void Negotiation::on_sasl(const Node& node) {
    Reason why;
    switch (sasl_->handle(node, &why)) {
    case SaslExchange::Outcome::pending:
        return;
    case SaslExchange::Outcome::failed:
        fail(ev::AUTHFAIL, std::move(why));
        return;
    case SaslExchange::Outcome::succeeded:
        // The exchange has verified what <success/> carries (SCRAM's server signature, the
        // router's DIGEST-MD5 rspauth).
        authenticated_ = true;
        phase_ = Phase::negotiating;
        // The exchange is over: its SASL session (≈ 1 KB, with the password's material) would
        // otherwise stay for the whole life of the connection.
        sasl_.reset();
        if (announce(ev::AUTHSUCCESS)) {
            host_.send_stream_header(); // RFC 6120 §6.4.6: restart the stream
        }
        return;
    }
}

} // namespace pcj::detail
