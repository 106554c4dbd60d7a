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
//   features (authenticated) ──bind──▶ binding ──result──▶ [session ──result──▶] [enabling] READY
//   features (authenticated, a session to resume) ──▶ resuming ──<resumed/>──▶ READY
//                                                        └──<failed/>──▶ binding (as above)
//
// XEP-0198 (when the server offers urn:xmpp:sm:3 and Config::stream_management allows it):
// <enable/> after binding, answered by <enabled/> (or <failed/>: READY without it); <resume/>
// instead of binding when the core keeps a resumable session. The counting and re-sending are
// the core's (StreamManagementHost).
//
// Every failure ends in the failure event of the stage it happened in: PCJ_SSLFAIL (STARTTLS
// refused, required but not offered, certificate), PCJ_AUTHFAIL (no acceptable mechanism, SASL
// failure, bad server signature), PCJ_BINDFAIL (also while resuming), PCJ_SESSIONFAIL (also
// while enabling stream management) — each with the condition.
class XmppProtocol final : public Negotiation {
public:
    explicit XmppProtocol(ProtocolHost& host);
    ~XmppProtocol() override;
    std::string_view name() const override { return "XMPP"; }

private:
    // The steps of its own; STARTTLS and SASL are Negotiation's phases.
    enum class Step { features, resuming, binding, session, enabling };

    void on_features(const Node& features) override;
    void on_element(const Node& node) override;
    std::string_view step_failure_event() const override;
    std::pair<std::string, std::string> sasl_binding(const Node& features) const override;
    void after_authentication(const Node& features);
    void start_bind();
    void send_bind();
    void on_bind_reply(const Node& reply);
    void start_session();
    void on_session_reply(const Node& reply);
    void enable_or_ready();
    void on_resume_answer(StreamManagementHost& sm, const Node& node);
    void on_enable_answer(StreamManagementHost& sm, const Node& node);

    Step step_ = Step::features;
    bool session_needed_ = false;
    bool bind_offered_ = false;
    bool sm_offered_ = false;
    std::string jid_; // bound
    unsigned bind_attempts_ = 0;
    std::string resource_;
};

} // namespace pcj::detail
