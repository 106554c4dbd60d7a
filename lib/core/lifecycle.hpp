// Lifecycle: one connection from connect() to its end — the state, the generation (through the
// Emitter), the protocol module and its HostLink, the negotiation and shutdown timers, and what
// each happening of the StreamStack means for the connection (it is the stack's Listener).
//
// The state moves disconnected → connecting → negotiating → ready → shutting_down →
// disconnected; connect() may start over from any state, dropping the connection silently, as
// PCJ's reconnect does. Every way a connection ends goes through finish() (or, while connecting,
// connect_failed()); every loss of an established one through lost().
//
// The reconnect policy (Config::reconnect, doc/unattended.md) lives here too: each connection
// remembers its first failure (event and reason); when it has ended, and not by the
// application's shutdown(), the failure is classified and either a timer connects again after
// a jittered delay (un::RECONNECT_DELAY) or the policy stops (un::RECONNECT_STOPPED).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "emitter.hpp"
#include "graveyard.hpp"
#include "host_link.hpp"
#include "pcj/component.hpp"
#include "pcj/config.hpp"
#include "protocol.hpp"
#include "reconnect_policy.hpp"
#include "server_rotation.hpp"
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
    // Config::servers: a new round over the list (listed or shuffled order).
    void connect_servers();
    void shutdown(const Reason* why = nullptr);
    // The application's shutdown(): the same, and the reconnect policy stops until connect().
    void shutdown_by_application(const Reason* why = nullptr);
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
    void note_failure(std::string_view event, const Reason& reason);
    void after_end();
    void stop_policy(const Reason& why);
    void follow_other_host();
    void dial(std::string host, std::uint16_t port);
    void redial();
    bool try_next_server(const Reason& reason);

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

    // -- the reconnect policy --------------------------------------------------------------------
    std::string target_host_; // where connect() was last asked to go (or see-other-host said)
    std::uint16_t target_port_ = 0;
    std::string failure_event_; // this connection's first failure
    std::optional<Reason> failure_reason_;
    bool policy_stopped_ = false; // by shutdown() or a fatal failure, until the next connect()
    Backoff backoff_;
    std::unique_ptr<Timer> reconnect_timer_; // made when first needed

    // -- Config::servers ---------------------------------------------------------------------
    bool use_servers_ = false;   // connect() went to the list (not to one host and port)
    bool reached_ready_ = false; // this connection reached READY
    ServerRotation rotation_;
};

} // namespace pcj::detail
