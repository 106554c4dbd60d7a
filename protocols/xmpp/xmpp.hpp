// XMPP: the RFC 6120 client negotiation — STARTTLS, SASL, resource binding, session.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "negotiation.hpp"

namespace pcj::detail {

// A JID split into its parts (for xs::BOUND_JID).
Jid split_jid(std::string_view full);

// RFC 6120 §5 (STARTTLS), §6 (SASL), §7 (binding); RFC 3921 §3 (session). States:
//
//   features ──starttls offered──▶ proceed ──<proceed/>──▶ tls ──established──▶ features
//      │                                                                           │
//      └──(encrypted, or TLS optional/disabled)── mechanisms ──▶ sasl ──<success/>─┘
//   features (authenticated) ──bind──▶ binding ──result──▶ [session ──result──▶] READY
//
// Every failure ends in the failure event of the stage it happened in: PCJ_SSLFAIL (STARTTLS
// refused, required but not offered, certificate), PCJ_AUTHFAIL (no acceptable mechanism, SASL
// failure, bad server signature), PCJ_BINDFAIL, PCJ_SESSIONFAIL — each with the condition.
class XmppProtocol final : public Negotiation {
public:
    explicit XmppProtocol(ProtocolHost& host);
    ~XmppProtocol() override;
    std::string_view name() const override { return "XMPP"; }

private:
    // The steps of its own; STARTTLS and SASL are Negotiation's phases.
    enum class Step { features, binding, session };

    void on_features(const Node& features) override;
    std::string_view step_failure_event() const override;
    std::pair<std::string, std::string> sasl_binding(const Node& features) const override;
    void start_bind(const Node& features);
    void send_bind();
    void on_bind_reply(const Node& reply);
    void start_session();
    void on_session_reply(const Node& reply);

    Step step_ = Step::features;
    bool session_needed_ = false;
    unsigned bind_attempts_ = 0;
    std::string resource_;
};

} // namespace pcj::detail
