// Lifecycle: one connection from connect() to its end — the state, the generation (through the
// Emitter), the protocol module and its HostLink, the negotiation and shutdown timers, and what
// each happening of the StreamStack means for the connection (it is the stack's Listener).
//
// The state moves disconnected → connecting → negotiating → ready → shutting_down →
// disconnected; connect() may start over from any state, dropping the connection silently, as
// PCJ's reconnect does. Every way a connection ends goes through finish() (or, while connecting,
// connect_failed()); every loss of an established one through lost().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "emitter.hpp"
#include "graveyard.hpp"
#include "host_link.hpp"
#include "pcj/component.hpp"
#include "pcj/config.hpp"
#include "protocol.hpp"
#include "stream_stack.hpp"
#include "timer.hpp"

struct uv_loop_s;

namespace pcj::detail {

class Lifecycle final : public StreamStack::Listener {
public:
    Lifecycle(uv_loop_s* loop, const Config& config, Emitter& emitter, Graveyard& graveyard,
              ConnectionParts parts);

    State state() const { return state_; }
    const std::string& sid() const { return sid_; } // the peer's stream id
    const std::string& jid() const { return jid_; } // the address the server assigned

    // -- the public API (Component) ---------------------------------------------------------
    void connect(std::string host, std::uint16_t port);
    void shutdown(const Reason* why = nullptr);
    void abort(Reason reason);

    // -- for the protocol module, through its HostLink ----------------------------------------
    void send_stream_header();
    void become_ready();
    void fail(std::string_view event, Reason reason);
    void set_jid(std::string jid) { jid_ = std::move(jid); }

    // -- for the InboundRouter: an element while negotiating goes to the protocol module --------
    void negotiate(const Node& node);

    void release(); // every libuv handle, before the loop closes

    // -- StreamStack::Listener ----------------------------------------------------------------
    void on_connected() override;
    void on_transport_failure(const Reason& reason) override;
    void on_transport_closed() override;
    void on_tls_established() override;
    void on_tls_failure(const Reason& reason) override;
    void on_tls_closed() override;
    void on_stream_start(Node header) override;
    void on_stream_end() override;
    void on_xml_error(const Reason& reason) override;

private:
    void retire_protocol();
    void end_connection();
    void connect_failed(const Reason& reason);
    void begin_ending();
    void lost(const Reason& reason, State was, bool close_now);
    void finish(bool shutdown_events);
    void arm_shutdown_timer();

    uv_loop_s* loop_;
    const Config& config_;
    Emitter& emitter_;
    Graveyard& graveyard_;
    ConnectionParts parts_;
    std::string content_ns_;

    State state_ = State::disconnected;
    std::string sid_;
    std::string jid_;
    std::unique_ptr<HostLink> link_; // declared before the module: destroyed after it
    std::unique_ptr<Protocol> protocol_;
    std::unique_ptr<Timer> negotiation_timer_;
    // Made at first use: each timer costs ≈ 150 bytes, and an idle connection is meant to cost
    // little.
    std::unique_ptr<Timer> shutdown_timer_;
    bool shutdown_events_ = false; // this connection's end goes through SHUTDOWN_* events
    bool direct_tls_started_ = false;
};

} // namespace pcj::detail
