// LEGACY: the pre-XMPP client login, jabber:iq:auth (XEP-0078), with STARTTLS when offered.
#pragma once

#include <string>

#include "negotiation.hpp"

namespace pcj::detail {

// XEP-0078 §3 (iq:auth), RFC 6120 §5 (STARTTLS). States:
//
//   header ──(encrypted, or TLS disabled)──────────────────────────────▶ get ──▶ set ──▶ READY
//      ├──(TLS possible, server header version 1.0)──▶ features ──starttls──▶ proceed ─┐
//      │                                                 └──none: required → SSLFAIL,  │
//      │                                                          optional → get       │
//      └──(TLS possible, pre-XMPP header)──▶ probe ──features with starttls──▶ proceed ─┤
//                             └──iq:auth answer, no starttls: required → SSLFAIL,       │
//                                                          optional → the answer is the get's
//   proceed ──▶ tls ──▶ header (encrypted) ──▶ get ◀──────────────────────────────────┘
//
// With TLS possible (required or optional) the stream header carries version='1.0'
// (Config::effective_version): ejabberd and jabberd2 offer STARTTLS only then, and all three
// servers still accept iq:auth on such a stream. With TLS disabled the header is PCJ's,
// without version.
//
// A pre-XMPP stream has no features: Prosody sends them anyway, ejabberd and jabberd2 do not.
// No wait can tell "none" from "late", so the first iq:auth get doubles as a probe: a server
// writes its features right after its header, before it answers anything, so features that
// have not come by the time the get is answered will never come. With TLS required the probe
// carries no username, and no credential is ever sent before TLS.
//
// Then the get's field list decides: <digest/> (hex SHA-1 of stream id + password) when offered,
// else <password/> over TLS or with sasl.allow_plaintext_password. sasl.mechanisms may restrict
// the choice to "DIGEST" and/or "PLAIN" (the <password/> method). Success is an empty result;
// a result carrying the field form again (Prosody's answer to <digest/>) is a failure.
class LegacyProtocol final : public Negotiation {
public:
    explicit LegacyProtocol(ProtocolHost& host);
    std::string_view name() const override { return "LEGACY"; }
    void on_stream_start(const Node& header) override;

private:
    // The steps of its own; STARTTLS is Negotiation's phase.
    enum class Step { header, features, probe, get, set };
    enum class Method { none, digest, password };

    void on_features(const Node& features) override;
    std::string_view step_failure_event() const override;
    void on_secured() override { step_ = Step::header; }
    void send_get(bool with_username);
    void on_probe_reply(const Node& reply);
    void on_get_reply(const Node& reply);
    Method choose(const Node& fields, Reason& why) const;
    bool allowed(std::string_view method) const;
    void send_set(Method method);
    void on_set_reply(const Node& reply);
    void tls_not_offered();

    Step step_ = Step::header;
    Method method_ = Method::none;
    std::string stream_id_;
    bool downgrade_reported_ = false;
};

} // namespace pcj::detail
