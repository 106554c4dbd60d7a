// JABBERD14_COMPONENT: the XEP-0114 "jabber:component:accept" handshake.
#pragma once

#include <string>

#include "protocol.hpp"

namespace pcj::detail {

// XEP-0114 §3. States:
//
//   header_sent --(server header with id)--> handshake_sent --(<handshake/>)--> done (READY)
//        \                                        \--(<stream:error/>, close, other)--> failed
//         \--(header without id, close)--> failed
//
// The handshake is hex(SHA-1(stream id + secret)). The server's <handshake/> must be empty (or
// echo ours); anything else is an authentication failure.
class J14Protocol final : public Protocol {
public:
    explicit J14Protocol(ProtocolHost& host) : host_(host) {}
    std::string_view name() const override { return "JABBERD14_COMPONENT"; }
    void on_connected() override;
    void on_stream_start(const Node& header) override;
    void on_node(const Node& node) override;
    void on_stream_end() override;
    void on_connection_lost(const Reason& reason) override;
    void on_timeout() override;

private:
    enum class State { header_sent, handshake_sent, done, failed };
    void fail(std::string condition, std::string text);
    ProtocolHost& host_;
    State state_ = State::header_sent;
    std::string digest_;
};

} // namespace pcj::detail
