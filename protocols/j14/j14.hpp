// JABBERD14_COMPONENT: the XEP-0114 "jabber:component:accept" handshake.
#pragma once

#include <string>

#include "negotiation.hpp"

namespace pcj::detail {

// XEP-0114 §3. States:
//
//   header_sent --(server header with id)--> handshake_sent --(<handshake/>)--> done (READY)
//        \                                        \--(<stream:error/>, close, other)--> failed
//         \--(header without id, close)--> failed
//
// Every failure is PCJ_AUTHFAIL. Done and failed are Negotiation's.
//
// The handshake is hex(SHA-1(stream id + secret)). The server's <handshake/> must be empty (or
// echo ours); anything else is an authentication failure.
class J14Protocol final : public Negotiation {
public:
    explicit J14Protocol(ProtocolHost& host);
    std::string_view name() const override { return "JABBERD14_COMPONENT"; }
    void on_stream_start(const Node& header) override;

private:
    enum class Step { header_sent, handshake_sent };

    // XEP-0114 streams have no features: <stream:features/> is an unexpected element.
    void on_features(const Node& features) override { on_element(features); }
    void on_element(const Node& node) override;
    std::string_view step_failure_event() const override;

    Step step_ = Step::header_sent;
    std::string digest_;
};

} // namespace pcj::detail
