// Lifecycle: connect, negotiation hand-off, READY, and every way a connection ends (the
// reconnect policy and the server list are in lifecycle_policy.cpp).
#include "lifecycle.hpp"

#include "event_records.hpp"
#include "outbox.hpp"
#include "request_tracker.hpp"
#include "session.hpp"
#include "stream_management.hpp"

namespace pcj::detail {

Lifecycle::Lifecycle(uv_loop_s* loop, const Config& config, Emitter& emitter, Graveyard& graveyard,
                     ConnectionParts parts)
    : loop_(loop), config_(config), emitter_(emitter), graveyard_(graveyard), parts_(parts),
      content_ns_(config.effective_xmlns()), negotiation_timer_(std::make_unique<Timer>(loop)),
      backoff_(config.reconnect, config.reconnect.uniform), rotation_(config.reconnect.uniform) {}

void Lifecycle::release() {
    negotiation_timer_.reset();
    shutdown_timer_.reset();
    reconnect_timer_.reset();
    if (link_) {
        link_->deactivate();
    }
}

// ---------------------------------------------------------------------------------------------
// Starting

// The module, its HostLink and the TLS session of the connection that ends go to the graveyard:
// the module may be on the stack right now.
void Lifecycle::retire_protocol() {
    if (link_) {
        link_->deactivate();
        graveyard_.bury(std::move(link_));
    }
    graveyard_.bury(std::move(protocol_));
    parts_.stack.retire_tls();
    graveyard_.collect();
}

void Lifecycle::connect(std::string host, std::uint16_t port) {
    use_servers_ = false;
    dial(std::move(host), port);
}

void Lifecycle::connect_servers() {
    use_servers_ = true;
    rotation_.start(config_.servers, config_.shuffle_servers);
    const ServerAddress first = rotation_.current();
    dial(first.host, first.port);
}

// The reconnect policy's attempt (and the next server of a round): where the last connect()
// went, or the round's current server.
void Lifecycle::redial() {
    if (!use_servers_ || rotation_.empty()) {
        dial(target_host_, target_port_);
        return;
    }
    const ServerAddress next = rotation_.current();
    dial(next.host, next.port);
}

void Lifecycle::dial(std::string host, std::uint16_t port) {
    Graveyard::Scope scope(graveyard_);
    target_host_ = host;
    target_port_ = port;
    policy_stopped_ = false;
    failure_event_.clear();
    failure_reason_.reset();
    if (reconnect_timer_) {
        reconnect_timer_->stop();
    }
    // A connection in progress is dropped without events, as PCJ's reconnect does; requests
    // that were sent on it can no longer be answered.
    parts_.stack.abort();
    retire_protocol();
    emitter_.next_generation();
    const Emitter::Token connection = emitter_.token();
    parts_.tracker.answer_lost("disconnected");
    // The socket records of the connection this one replaces (no net:: or PCJ event: PCJ's
    // reconnect drops it silently).
    if (!connection || !parts_.records.announce_closed(false)) {
        return;
    }
    parts_.records.announce_deleted();
    if (!connection) {
        return;
    }
    negotiation_timer_->stop();
    if (shutdown_timer_) {
        shutdown_timer_->stop();
    }
    parts_.stack.start_connection();
    parts_.tracker.restart();
    parts_.records.start_connection();
    parts_.session.on_connect();
    sid_.clear();
    jid_.clear();
    shutdown_events_ = false;
    direct_tls_started_ = false;
    link_ = std::make_unique<HostLink>(*this, parts_, emitter_, config_);
    protocol_ = make_protocol(*config_.connection_type, *link_);
    state_ = State::connecting;
    reached_ready_ = false;

    if (use_servers_ && !emitter_.emit(un::SERVER_TRYING, Payload(rotation_.choice()))) {
        return;
    }
    if (!emitter_.emit(ev::CONNECT)) {
        return;
    }
    parts_.stack.connect(std::move(host), port);
    if (!connection) {
        return; // a handler of a lookup record replaced the connection
    }
    emitter_.emit(ev::CONNECTING);
}

void Lifecycle::on_connected() {
    state_ = State::negotiating;
    if (config_.negotiation_timeout.count() > 0) {
        negotiation_timer_->start(config_.negotiation_timeout, [this] {
            graveyard_.guarded("negotiation timeout", [this] {
                if (state_ == State::negotiating && protocol_) {
                    protocol_->on_timeout();
                }
            });
        });
    }
    if (!parts_.records.announce_connected() || !emitter_.emit(ev::CONNECTED) || !protocol_) {
        return;
    }
    if (parts_.records.peer_direct_tls() && parts_.stack.tls_possible()) {
        parts_.stack.start_tls(); // XEP-0368: the stream starts once TLS is up
        return;
    }
    protocol_->on_connected();
}

void Lifecycle::send_stream_header() {
    Node header("stream:stream", config_.stream_ns);
    header.set_attr("to", config_.hostname);
    const std::string version = config_.effective_version();
    if (!version.empty()) {
        header.set_attr("version", version);
    }
    header.set_attr("xmlns", content_ns_);
    header.set_attr("xmlns:stream", config_.stream_ns);
    std::string bytes = header.start_tag();
    if (config_.debug) {
        emitter_.log(LogLevel::debug, "Sent: " + bytes);
    }
    parts_.stack.restart_parser();
    parts_.stack.send(bytes);
    if (emitter_.emit(xs::START_STREAM, nullptr, &header)) {
        emitter_.emit(ev::STREAMSTART, nullptr, &header);
    }
}

void Lifecycle::negotiate(const Node& node) {
    if (protocol_) {
        protocol_->on_node(node);
    }
}

void Lifecycle::become_ready() {
    if (state_ != State::negotiating) {
        return;
    }
    state_ = State::ready;
    reached_ready_ = true;
    negotiation_timer_->stop();
    backoff_.reset();
    parts_.session.on_ready();
    // Before READY's handlers: what they output then goes behind the queue, not ahead of it.
    const Emitter::Token connection = emitter_.token();
    parts_.outbox.on_ready();
    if (!connection || state_ != State::ready) {
        return;
    }
    if (use_servers_ && !emitter_.emit(un::SERVER_READY, Payload(rotation_.choice()))) {
        return;
    }
    if (state_ == State::ready) {
        emitter_.emit(ev::READY);
    }
}

void Lifecycle::fail(std::string_view event, Reason reason) {
    note_failure(event, reason);
    if (emitter_.emit(event, &reason)) {
        shutdown();
    }
}

// ---------------------------------------------------------------------------------------------
// TLS and the peer's stream

void Lifecycle::on_tls_established() {
    if (!protocol_) {
        return;
    }
    if (parts_.records.peer_direct_tls() && !direct_tls_started_) {
        direct_tls_started_ = true;
        protocol_->on_connected();
        return;
    }
    protocol_->on_tls_established();
}

// The failure event (named by its condition) has fired: the module fires PCJ_SSLFAIL, the
// connection closes.
void Lifecycle::on_tls_failure(const Reason& reason) {
    if (state_ != State::negotiating && state_ != State::ready) {
        parts_.stack.close_gracefully();
        return;
    }
    const Emitter::Token connection = emitter_.token();
    note_failure(ev::SSLFAIL, reason);
    begin_ending();
    if (protocol_) {
        protocol_->on_tls_failed(reason);
    }
    if (connection) {
        parts_.stack.close_gracefully();
    }
}

void Lifecycle::on_tls_closed() {
    // The peer's close_notify; its TCP close follows and ends the connection.
    if (state_ == State::shutting_down) {
        parts_.stack.close_gracefully();
    }
}

void Lifecycle::on_stream_start(Node header) {
    if (config_.debug) {
        emitter_.log(LogLevel::debug, "Recd: " + header.start_tag());
    }
    sid_ = header.attr("id");
    if (!emitter_.emit(xs::OPEN, nullptr, &header)) {
        return;
    }
    parts_.session.on_stream_open(header);
    if (state_ == State::negotiating && protocol_) {
        protocol_->on_stream_start(header);
    }
}

void Lifecycle::on_stream_end() {
    parts_.session.on_stream_end();
    if (config_.debug) {
        emitter_.log(LogLevel::debug, "Recd: </stream:stream>");
    }
    const Emitter::Token connection = emitter_.token();
    if (!emitter_.emit(xs::CLOSED)) {
        return;
    }
    switch (state_) {
    case State::shutting_down:
        parts_.stack.close_gracefully();
        return;
    case State::negotiating:
        if (protocol_) {
            protocol_->on_stream_end();
        }
        break;
    case State::ready: {
        const Reason why = parts_.records.stream_end_reason();
        note_failure(ev::SOCKETDISCONNECT, why);
        shutdown(&why);
        break;
    }
    default:
        return;
    }
    if (connection && state_ == State::shutting_down) {
        parts_.stack.close_gracefully();
    }
}

void Lifecycle::on_xml_error(const Reason& reason) {
    if (emitter_.wanted(xs::UNHANDLED_XML) &&
        !emitter_.emit(xs::UNHANDLED_XML, Payload(Text{std::string(parts_.stack.feeding())}),
                       nullptr, &reason)) {
        return;
    }
    if (state_ == State::shutting_down) {
        parts_.stack.close_gracefully();
        return;
    }
    if (state_ != State::negotiating && state_ != State::ready) {
        return;
    }
    const State was = state_;
    begin_ending();
    parts_.records.note_lost(reason);
    // RFC 6120 §4.9: tell the peer why the stream ends, then close it.
    parts_.stack.send("<stream:error><" + reason.condition +
                      " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
                      "</stream:stream>");
    emitter_.log(LogLevel::warning, "closing the stream: " + reason.to_string());
    lost(reason, was, false);
}

// ---------------------------------------------------------------------------------------------
// Ending

void Lifecycle::shutdown(const Reason* why) {
    Graveyard::Scope scope(graveyard_);
    if (state_ == State::disconnected || state_ == State::shutting_down) {
        return;
    }
    if (state_ == State::connecting) {
        parts_.stack.abort();
        state_ = State::shutting_down;
        if (emitter_.emit(ev::SHUTDOWN_START, why)) {
            finish(true);
        }
        return;
    }
    state_ = State::shutting_down;
    shutdown_events_ = true;
    negotiation_timer_->stop();
    parts_.stack.send("</stream:stream>");
    if (config_.debug) {
        emitter_.log(LogLevel::debug, "Sent: </stream:stream>");
    }
    if (!emitter_.emit(ev::STREAMEND) || !emitter_.emit(ev::SHUTDOWN_START, why) ||
        state_ != State::shutting_down) {
        return;
    }
    if (config_.shutdown_timeout.count() == 0) {
        parts_.stack.close_gracefully();
        return;
    }
    arm_shutdown_timer();
}

// The peer has shutdown_timeout to close its stream; then the socket is closed anyway.
void Lifecycle::arm_shutdown_timer() {
    if (!shutdown_timer_) {
        shutdown_timer_ = std::make_unique<Timer>(loop_);
    }
    shutdown_timer_->start(config_.shutdown_timeout, [this] {
        graveyard_.guarded("shutdown timeout", [this] {
            if (state_ != State::shutting_down) {
                return;
            }
            emitter_.log(LogLevel::warning,
                         "the peer did not close the stream in time; closing the socket");
            parts_.stack.abort();
            finish(shutdown_events_);
        });
    });
}

void Lifecycle::abort(Reason reason) {
    Graveyard::Scope scope(graveyard_);
    switch (state_) {
    case State::disconnected:
        return;
    case State::connecting:
        parts_.stack.abort();
        connect_failed(reason); // PCJ_CONNECTFAIL, as any failed attempt
        return;
    case State::shutting_down:
        parts_.stack.abort(); // the end was coming anyway: complete it now
        finish(shutdown_events_);
        return;
    default:
        break;
    }
    const State was = state_;
    state_ = State::shutting_down;
    negotiation_timer_->stop();
    parts_.stack.abort();
    parts_.records.note_lost(reason);
    lost(reason, was, true);
}

void Lifecycle::on_transport_failure(const Reason& reason) {
    switch (state_) {
    case State::disconnected:
        return;
    case State::connecting:
        connect_failed(reason);
        return;
    case State::shutting_down:
        // The end we were waiting for (or a reset instead of it): the shutdown is complete.
        if (!(reason.op == "read" && reason.code == 0)) {
            emitter_.log(LogLevel::info, "socket error while shutting down: " + reason.to_string());
        }
        finish(shutdown_events_);
        return;
    default:
        parts_.records.note_lost(reason);
        lost(reason, state_, true);
    }
}

void Lifecycle::on_transport_closed() {
    if (state_ != State::disconnected) {
        finish(shutdown_events_);
    }
}

// The connection ends without the peer's consent (XML or TLS error): no SHUTDOWN_* events.
void Lifecycle::begin_ending() {
    state_ = State::shutting_down;
    shutdown_events_ = false;
    negotiation_timer_->stop();
}

// The one "connection lost" path of an established connection (socket failure, abort(),
// rejected XML): PCJ_SOCKETFAIL, the negotiation stage's own failure event while negotiating,
// then the end — at once (the socket is gone) or after a graceful close (close_now false).
void Lifecycle::lost(const Reason& reason, State was, bool close_now) {
    note_failure(ev::SOCKETFAIL, reason);
    if (!emitter_.emit(ev::SOCKETFAIL, &reason)) {
        return;
    }
    if (was == State::negotiating && protocol_) {
        const Emitter::Token connection = emitter_.token();
        protocol_->on_connection_lost(reason);
        if (!connection) {
            return;
        }
    }
    if (close_now) {
        finish(false);
    } else {
        parts_.stack.close_gracefully();
    }
}

// What every end shares: disconnected, timers stopped, the module retired, a new generation.
void Lifecycle::end_connection() {
    state_ = State::disconnected;
    negotiation_timer_->stop();
    if (shutdown_timer_) {
        shutdown_timer_->stop();
    }
    parts_.stack.on_disconnected();
    retire_protocol();
    emitter_.next_generation();
}

// No connection was made: net::TCP_FAILED and PCJ_CONNECTFAIL instead of a disconnect.
void Lifecycle::connect_failed(const Reason& reason) {
    if (try_next_server(reason)) {
        return;
    }
    if (use_servers_) {
        rotation_.restart(); // every server of the round failed: the policy's next round
    }
    note_failure(ev::CONNECTFAIL, reason);
    end_connection();
    const Emitter::Token connection = emitter_.token();
    parts_.tracker.answer_lost("disconnected");
    if (connection && emitter_.emit(net::TCP_FAILED, &reason) &&
        emitter_.emit(ev::CONNECTFAIL, &reason)) {
        parts_.records.announce_deleted();
        if (connection && state_ == State::disconnected) {
            after_end();
        }
    }
}

void Lifecycle::finish(bool shutdown_events) {
    if (state_ == State::disconnected) {
        return;
    }
    end_connection();
    // A server that served the connection is tried first again; one that took the connection
    // and then failed the negotiation (a frozen node accepts and never answers) goes last.
    if (reached_ready_) {
        rotation_.restart_from_current();
    } else {
        rotation_.restart_from_next();
    }
    parts_.session.on_closed();
    const Emitter::Token connection = emitter_.token();
    parts_.tracker.answer_lost("disconnected");
    parts_.sm.on_closed();
    if (!connection || !parts_.records.announce_closed(true) ||
        !emitter_.emit(ev::SOCKETDISCONNECT)) {
        return;
    }
    if (shutdown_events && !emitter_.emit(ev::SHUTDOWN_FINISH)) {
        return;
    }
    parts_.records.announce_deleted();
    if (connection && state_ == State::disconnected) {
        after_end();
    }
}

} // namespace pcj::detail
