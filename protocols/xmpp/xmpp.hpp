// XMPP: the RFC 6120 client negotiation — STARTTLS, SASL, resource binding, session.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "protocol.hpp"
#include "sasl_exchange.hpp"

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
// failure, bad server signature), PCJ_BINDFAIL, PCJ_SESSIONFAIL — each with the condition.
class XmppProtocol final : public Protocol {
public:
    explicit XmppProtocol(ProtocolHost& host);
    ~XmppProtocol() override;
    std::string_view name() const override { return "XMPP"; }
    void on_connected() override;
    void on_stream_start(const Node& header) override;
    void on_node(const Node& node) override;
    void on_stream_end() override;
    void on_connection_lost(const Reason& reason) override;
    void on_timeout() override;
    void on_tls_established() override;
    void on_tls_failed(const Reason& reason) override;

private:
    enum class State {
        features,
        proceed,
        tls,
        sasl,
        resuming,
        binding,
        session,
        enabling,
        done,
        failed
    };

    void on_features(const Node& features);
    void negotiate_tls_or_sasl(const Node& features);
    std::pair<std::string, std::string> usable_binding(const Node& features) const;
    void on_sasl(const Node& node);
    void after_authentication(const Node& features);
    void start_bind();
    void on_sm(const Node& node);
    void enable_or_ready();
    void send_bind();
    void on_bind_reply(const Event& e);
    void on_session_reply(const Event& e);
    std::string_view stage_event() const;
    void fail(std::string_view event, Reason reason);
    void fail_here(std::string condition, std::string text);

    ProtocolHost& host_;
    State state_ = State::features;
    bool authenticated_ = false;
    bool tls_done_ = false;
    bool session_needed_ = false;
    bool bind_offered_ = false;
    bool sm_offered_ = false;
    std::string jid_; // bound
    unsigned bind_attempts_ = 0;
    std::string resource_;
    std::unique_ptr<SaslExchange> sasl_;
};

} // namespace pcj::detail
