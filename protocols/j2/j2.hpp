// JABBERD20_COMPONENT: the jabberd2 router's component protocol — STARTTLS, SASL, domain bind.
#pragma once

#include <memory>
#include <string>

#include "protocol.hpp"
#include "sasl_exchange.hpp"

namespace pcj::detail {

// The jabberd2 component protocol (namespace http://jabberd.jabberstudio.org/ns/component/1.0),
// built on RFC 6120 §5 (STARTTLS) and §6 (SASL). States:
//
//   features ──starttls offered──▶ proceed ──<proceed/>──▶ tls ──established──▶ features
//      │                                                                           │
//      └──(encrypted, or TLS optional/disabled)── mechanisms ──▶ sasl ──<success/>─┘
//   features (authenticated, empty) ──▶ binding ──<bind/> without error──▶ READY
//
// The router offers STARTTLS only when it has a pemfile, and DIGEST-MD5 (realm jabberd-router)
// with the rspauth inside <success/>, which is verified. <bind name='DOMAIN'/> goes out as an
// internal request, so the router's reply is matched by the id it echoes; a reply with
// error='409' (name taken) or error='403' (no bind ACL) is PCJ_BINDFAIL with that code. After
// READY the core delivers the <route/> envelopes like any stanza (see pcj/route.hpp).
class J2Protocol final : public Protocol {
public:
    explicit J2Protocol(ProtocolHost& host);
    ~J2Protocol() override;
    std::string_view name() const override { return "JABBERD20_COMPONENT"; }
    void on_connected() override;
    void on_stream_start(const Node& header) override;
    void on_node(const Node& node) override;
    void on_stream_end() override;
    void on_connection_lost(const Reason& reason) override;
    void on_timeout() override;
    void on_tls_established() override;
    void on_tls_failed(const Reason& reason) override;

private:
    enum class State { features, proceed, tls, sasl, binding, done, failed };

    void on_features(const Node& features);
    void on_sasl(const Node& node);
    void start_bind();
    void on_bind_reply(const Event& e);
    std::string_view stage_event() const;
    void fail(std::string_view event, Reason reason);

    ProtocolHost& host_;
    State state_ = State::features;
    bool authenticated_ = false;
    std::unique_ptr<SaslExchange> sasl_;
};

} // namespace pcj::detail
