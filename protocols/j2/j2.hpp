// JABBERD20_COMPONENT: the jabberd2 router's component protocol — STARTTLS, SASL, domain bind.
#pragma once

#include <memory>
#include <string>

#include "negotiation.hpp"

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
class J2Protocol final : public Negotiation {
public:
    explicit J2Protocol(ProtocolHost& host);
    ~J2Protocol() override;
    std::string_view name() const override { return "JABBERD20_COMPONENT"; }

private:
    // The steps of its own; STARTTLS and SASL are Negotiation's phases.
    enum class Step { features, binding };

    void on_features(const Node& features) override;
    void on_element(const Node& node) override;
    std::string_view step_failure_event() const override;
    std::string timeout_text() const override;
    void start_bind();
    void on_bind_reply(const Node& reply);

    Step step_ = Step::features;
};

} // namespace pcj::detail
