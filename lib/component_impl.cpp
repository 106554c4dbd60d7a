// ComponentImpl: connection lifecycle — connect, negotiation hand-off, shutdown, failures.
#include "component_impl.hpp"

#include <uv.h>

#include "ids.hpp"
#include "pcj/error.hpp"

namespace pcj::detail {

// ---------------------------------------------------------------------------------------------
// HostLink: forwards to the component while its connection is current.

const Config& HostLink::config() const {
    return impl_.config_;
}

void HostLink::send_stream_header() {
    if (active_) {
        impl_.send_stream_header();
    }
}

void HostLink::send(const Node& node) {
    if (active_) {
        impl_.write_node(node);
    }
}

std::string HostLink::request(Node node, Handler on_reply) {
    return active_ ? impl_.internal_request(std::move(node), std::move(on_reply)) : std::string();
}

void HostLink::emit(std::string_view event, const Reason* reason) {
    if (active_) {
        if (event == ev::AUTHSUCCESS) {
            impl_.session_.on_authenticated();
        }
        impl_.emit(event, reason);
    }
}

void HostLink::set_jid(std::string jid) {
    if (active_) {
        impl_.jid_ = std::move(jid);
        impl_.session_.on_bound(impl_.jid_);
    }
}

void HostLink::start_tls() {
    if (active_) {
        impl_.start_tls();
    }
}

bool HostLink::encrypted() const {
    return active_ && impl_.tls_ && impl_.tls_->established();
}

std::pair<std::string, std::string> HostLink::channel_binding() const {
    if (!active_ || !impl_.tls_ || !impl_.tls_->established()) {
        return {};
    }
    return impl_.tls_->channel_binding();
}

void HostLink::ready() {
    if (active_) {
        impl_.become_ready();
    }
}

void HostLink::fail(std::string_view event, Reason reason) {
    if (active_) {
        impl_.fail(event, std::move(reason));
    }
}

void HostLink::log(LogLevel level, std::string_view line) {
    impl_.log(level, line);
}

// ---------------------------------------------------------------------------------------------

ComponentImpl::Depth::Depth(ComponentImpl& i) : impl(i) {
    ++impl.depth_;
}

ComponentImpl::Depth::~Depth() {
    if (--impl.depth_ == 0) {
        impl.retired_protocols_.clear();
        impl.retired_links_.clear();
        impl.retired_tls_.clear();
    }
}

ComponentImpl::ComponentImpl(Config config, uv_loop_t* loop)
    : config_(std::move(config)), id_(next_component_id()), logger_(&stderr_logger), loop_(loop),
      owns_loop_(loop == nullptr) {
    config_.validate_and_complete();
    {
        // Reject a connection type whose module is missing now, not at connect().
        HostLink probe(*this);
        probe.deactivate();
        (void)make_protocol(*config_.connection_type, probe);
    }
    content_ns_ = config_.effective_xmlns();
    if (*config_.connection_type != ConnectionType::JABBERD14_COMPONENT &&
        config_.tls.policy != TlsPolicy::disabled) {
        tls_options_.verify = config_.tls.verify;
        tls_options_.ca_file = config_.tls.ca_file;
        tls_options_.ca_dir = config_.tls.ca_dir;
        tls_options_.pins = config_.tls.pins;
        tls_options_.client_cert_file = config_.tls.client_cert_file;
        tls_options_.client_key_file = config_.tls.client_key_file;
        tls_options_.priority = config_.tls.priority;
        try {
            // Loaded once per process and shared by every connection with the same options.
            tls_credentials_ = TlsCredentials::get(tls_options_);
        } catch (const std::exception& e) {
            throw ConfigError(std::string("tls: ") + e.what());
        }
    }
    if (owns_loop_) {
        loop_ = new uv_loop_t;
        if (int rc = uv_loop_init(loop_); rc != 0) {
            delete loop_;
            throw Error(std::string("uv_loop_init: ") + uv_strerror(rc));
        }
    }
    negotiation_timer_ = std::make_unique<Timer>(loop_);
    shutdown_timer_ = std::make_unique<Timer>(loop_);
    rts_timer_ = std::make_unique<Timer>(loop_);
    door_ = std::make_unique<Door>(loop_, [this](std::vector<Door::Task>& tasks) {
        // One guard per task: a task that throws is logged, and the next ones still run.
        for (auto& task : tasks) {
            guarded("submitted task", [&task] { task(); });
        }
    });

    Transport::Callbacks tc;
    tc.on_connected = [this] {
        guarded("on_connected", [this] { on_connected(); });
    };
    tc.on_data = [this](std::string_view bytes) {
        guarded("on_data", [this, bytes] { on_data(bytes); });
    };
    tc.on_failure = [this](const Reason& r) {
        guarded("on_failure", [this, &r] { on_transport_failure(r); });
    };
    tc.on_closed = [this] {
        guarded("on_closed", [this] { on_transport_closed(); });
    };
    transport_ = std::make_unique<Transport>(loop_, std::move(tc));

    XmlStream::Callbacks xc;
    xc.on_stream_start = [this](Node header) {
        on_stream_start(std::move(header));
    };
    xc.on_element = [this](Node node) {
        on_element(std::move(node));
    };
    xc.on_stream_end = [this] {
        on_stream_end();
    };
    xc.on_error = [this](const Reason& r) {
        on_xml_error(r);
    };
    xml_ = std::make_unique<XmlStream>(std::move(xc), config_.max_stanza_size, config_.max_depth);
    pending_.reseed();
}

ComponentImpl::~ComponentImpl() {
    // Close every handle first; with our own loop, let their close callbacks run and then
    // close the loop itself, which must have nothing left.
    tls_.reset();
    retired_tls_.clear();
    transport_.reset();
    negotiation_timer_.reset();
    shutdown_timer_.reset();
    rts_timer_.reset();
    door_.reset();
    if (link_) {
        link_->deactivate();
    }
    if (owns_loop_) {
        uv_run(loop_, UV_RUN_DEFAULT);
        if (uv_loop_close(loop_) != 0) {
            log(LogLevel::error, "the component's own loop still had open handles at destruction");
        } else {
            delete loop_;
        }
    }
}

void ComponentImpl::log(LogLevel level, std::string_view line) {
    if (logger_) {
        logger_(level, config_.alias, line);
    }
}

void ComponentImpl::emit(std::string_view event, const Reason* reason, const Node* node) {
    // publish() itself returns at once when nobody listens: asking wanted() first would hash
    // the name twice for every stanza.
    Event e;
    e.name = event;
    e.reason = reason;
    e.node = node;
    events_.publish(e);
}

void ComponentImpl::emit(std::string_view event, const Payload& payload, const Node* node,
                         const Reason* reason) {
    Event e;
    e.name = event;
    e.reason = reason;
    e.node = node;
    e.payload = &payload;
    events_.publish(e);
}

// ---------------------------------------------------------------------------------------------
// Connecting

void ComponentImpl::retire_protocol() {
    if (link_) {
        link_->deactivate();
        retired_links_.push_back(std::move(link_));
    }
    if (protocol_) {
        retired_protocols_.push_back(std::move(protocol_));
    }
    if (tls_) {
        retired_tls_.push_back(std::move(tls_));
    }
    if (depth_ == 0) {
        retired_protocols_.clear();
        retired_links_.clear();
        retired_tls_.clear();
    }
}

void ComponentImpl::connect(std::string host, std::uint16_t port) {
    Depth depth(*this);
    // A connection in progress is dropped without events, as PCJ's reconnect does; requests
    // that were sent on it can no longer be answered.
    transport_->abort();
    retire_protocol();
    ++generation_;
    const std::uint64_t gen = generation_;
    answer_lost_requests("disconnected");
    if (gen != generation_) {
        return;
    }
    negotiation_timer_->stop();
    shutdown_timer_->stop();
    xml_->reset();
    sid_.clear();
    jid_.clear();
    last_stream_error_condition_.clear();
    last_stream_error_text_.clear();
    closing_ = false;
    shutdown_events_ = false;
    stream_error_sent_ = false;
    direct_tls_started_ = false;
    pending_.reseed();
    connection_id_ = next_connection_id();
    last_received_ = std::chrono::steady_clock::now();
    session_.on_connect();
    link_ = std::make_unique<HostLink>(*this);
    protocol_ = make_protocol(*config_.connection_type, *link_);
    state_ = State::connecting;

    emit(ev::CONNECT);
    if (gen != generation_) {
        return;
    }
    transport_->connect(std::move(host), port, config_.connect_timeout);
    emit(ev::CONNECTING);
}

void ComponentImpl::on_connected() {
    const std::uint64_t gen = generation_;
    state_ = State::negotiating;
    if (config_.negotiation_timeout.count() > 0) {
        negotiation_timer_->start(config_.negotiation_timeout, [this] {
            guarded("negotiation timeout", [this] {
                if (state_ == State::negotiating && protocol_) {
                    protocol_->on_timeout();
                }
            });
        });
    }
    emit(ev::CONNECTED);
    if (gen != generation_ || !protocol_) {
        return;
    }
    if (config_.tls.policy == TlsPolicy::direct && tls_credentials_) {
        start_tls(); // XEP-0368: the stream starts once TLS is up
        return;
    }
    protocol_->on_connected();
}

void ComponentImpl::on_data(std::string_view bytes) {
    last_received_ = std::chrono::steady_clock::now();
    if (tls_) {
        tls_->feed(bytes);
    } else {
        xml_->feed(bytes);
    }
}

void ComponentImpl::send_bytes(std::string_view bytes) {
    if (tls_ && tls_->established()) {
        tls_->write(bytes);
    } else {
        transport_->write(std::string(bytes));
    }
}

void ComponentImpl::start_tls() {
    if (!tls_credentials_ || tls_) {
        return;
    }
    if (!tls_options_.verify) {
        log(LogLevel::warning, "TLS certificate verification is OFF for " + config_.hostname +
                                   ": the connection can be intercepted");
    }
    const std::uint64_t gen = generation_;
    TlsSession::Callbacks cb;
    cb.send = [this, gen](std::string_view ciphertext) {
        if (gen == generation_) {
            transport_->write(std::string(ciphertext));
        }
    };
    cb.on_plaintext = [this, gen](std::string_view plaintext) {
        if (gen == generation_) {
            xml_->feed(plaintext);
        }
    };
    cb.on_established = [this, gen] {
        if (gen == generation_) {
            on_tls_established();
        }
    };
    cb.on_failure = [this, gen](const Reason& r) {
        if (gen == generation_) {
            on_tls_failure(r);
        }
    };
    cb.on_closed = [this, gen] {
        if (gen == generation_) {
            on_tls_closed();
        }
    };
    tls_ = std::make_unique<TlsSession>(tls_credentials_, tls_options_, config_.hostname,
                                        std::move(cb));
    tls_->start();
}

void ComponentImpl::on_tls_established() {
    if (config_.debug) {
        log(LogLevel::debug, "TLS established: " + tls_->protocol_version() + " " + tls_->cipher());
    }
    if (!protocol_) {
        return;
    }
    if (config_.tls.policy == TlsPolicy::direct && !direct_tls_started_) {
        direct_tls_started_ = true;
        protocol_->on_connected();
        return;
    }
    protocol_->on_tls_established();
}

void ComponentImpl::on_tls_failure(const Reason& reason) {
    if (state_ != State::negotiating && state_ != State::ready) {
        close_transport_gracefully();
        return;
    }
    const std::uint64_t gen = generation_;
    state_ = State::shutting_down;
    shutdown_events_ = false;
    negotiation_timer_->stop();
    log(LogLevel::warning, "TLS failed: " + reason.to_string());
    if (protocol_) {
        protocol_->on_tls_failed(reason);
    }
    if (gen == generation_) {
        close_transport_gracefully();
    }
}

void ComponentImpl::on_tls_closed() {
    // The peer's close_notify; its TCP close follows and ends the connection.
    if (state_ == State::shutting_down) {
        close_transport_gracefully();
    }
}

void ComponentImpl::send_stream_header() {
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
        log(LogLevel::debug, "Sent: " + bytes);
    }
    // The peer answers a new header with a new stream: parse it from a clean state.
    xml_->reset();
    send_bytes(bytes);
    emit(ev::STREAMSTART, nullptr, &header);
}

void ComponentImpl::become_ready() {
    if (state_ != State::negotiating) {
        return;
    }
    state_ = State::ready;
    negotiation_timer_->stop();
    session_.on_ready();
    emit(ev::READY);
}

void ComponentImpl::fail(std::string_view event, Reason reason) {
    const std::uint64_t gen = generation_;
    emit(event, &reason);
    if (gen == generation_) {
        shutdown();
    }
}

// ---------------------------------------------------------------------------------------------
// Ending

void ComponentImpl::shutdown(const Reason* why) {
    Depth depth(*this);
    if (state_ == State::disconnected || state_ == State::shutting_down) {
        return;
    }
    const std::uint64_t gen = generation_;
    if (state_ == State::connecting) {
        transport_->abort();
        state_ = State::shutting_down;
        emit(ev::SHUTDOWN_START, why);
        if (gen == generation_) {
            finish_disconnect(true);
        }
        return;
    }
    state_ = State::shutting_down;
    shutdown_events_ = true;
    negotiation_timer_->stop();
    send_bytes("</stream:stream>");
    if (config_.debug) {
        log(LogLevel::debug, "Sent: </stream:stream>");
    }
    emit(ev::STREAMEND);
    if (gen != generation_) {
        return;
    }
    emit(ev::SHUTDOWN_START, why);
    if (gen != generation_ || state_ != State::shutting_down) {
        return;
    }
    if (config_.shutdown_timeout.count() == 0) {
        close_transport_gracefully();
        return;
    }
    shutdown_timer_->start(config_.shutdown_timeout, [this] {
        guarded("shutdown timeout", [this] {
            if (state_ != State::shutting_down) {
                return;
            }
            log(LogLevel::warning, "the peer did not close the stream in time; closing the socket");
            transport_->abort();
            finish_disconnect(shutdown_events_);
        });
    });
}

void ComponentImpl::abort(Reason reason) {
    Depth depth(*this);
    if (state_ == State::disconnected) {
        return;
    }
    if (state_ == State::connecting) {
        transport_->abort();
        on_transport_failure(reason); // PCJ_CONNECTFAIL, as any failed attempt
        return;
    }
    if (state_ == State::shutting_down) {
        transport_->abort(); // the end was coming anyway: complete it now
        finish_disconnect(shutdown_events_);
        return;
    }
    const State was = state_;
    const std::uint64_t gen = generation_;
    state_ = State::shutting_down;
    negotiation_timer_->stop();
    transport_->abort();
    emit(ev::SOCKETFAIL, &reason);
    if (gen != generation_) {
        return;
    }
    if (was == State::negotiating && protocol_) {
        protocol_->on_connection_lost(reason);
        if (gen != generation_) {
            return;
        }
    }
    finish_disconnect(false);
}

void ComponentImpl::close_transport_gracefully() {
    if (closing_) {
        return;
    }
    closing_ = true;
    if (tls_ && tls_->established()) {
        tls_->close(); // close_notify before the TCP close
    }
    transport_->close();
}

void ComponentImpl::on_transport_closed() {
    if (state_ != State::disconnected) {
        finish_disconnect(shutdown_events_);
    }
}

void ComponentImpl::finish_disconnect(bool shutdown_events) {
    if (state_ == State::disconnected) {
        return;
    }
    state_ = State::disconnected;
    negotiation_timer_->stop();
    shutdown_timer_->stop();
    retire_protocol();
    ++generation_;
    session_.on_closed();
    const std::uint64_t gen = generation_;
    answer_lost_requests("disconnected");
    if (gen != generation_) {
        return;
    }
    emit(ev::SOCKETDISCONNECT);
    if (shutdown_events && gen == generation_) {
        emit(ev::SHUTDOWN_FINISH);
    }
}

void ComponentImpl::on_transport_failure(const Reason& reason) {
    const State was = state_;
    if (was == State::disconnected) {
        return;
    }
    if (was == State::connecting) {
        state_ = State::disconnected;
        retire_protocol();
        ++generation_;
        const std::uint64_t gen = generation_;
        answer_lost_requests("disconnected");
        if (gen == generation_) {
            emit(ev::CONNECTFAIL, &reason);
        }
        return;
    }
    if (was == State::shutting_down) {
        // The end we were waiting for (or a reset instead of it): the shutdown is complete.
        if (!(reason.op == "read" && reason.code == 0)) {
            log(LogLevel::info, "socket error while shutting down: " + reason.to_string());
        }
        finish_disconnect(shutdown_events_);
        return;
    }
    const std::uint64_t gen = generation_;
    emit(ev::SOCKETFAIL, &reason);
    if (gen != generation_) {
        return;
    }
    if (was == State::negotiating && protocol_) {
        protocol_->on_connection_lost(reason);
        if (gen != generation_) {
            return;
        }
    }
    finish_disconnect(false);
}

// ---------------------------------------------------------------------------------------------
// Inbound stream events

void ComponentImpl::on_stream_start(Node header) {
    if (config_.debug) {
        log(LogLevel::debug, "Recd: " + header.start_tag());
    }
    sid_ = header.attr("id");
    session_.on_stream_open(header);
    if (state_ == State::negotiating && protocol_) {
        protocol_->on_stream_start(header);
    }
}

void ComponentImpl::on_stream_end() {
    if (config_.debug) {
        log(LogLevel::debug, "Recd: </stream:stream>");
    }
    const std::uint64_t gen = generation_;
    switch (state_) {
    case State::shutting_down:
        close_transport_gracefully();
        return;
    case State::negotiating:
        if (protocol_) {
            protocol_->on_stream_end();
        }
        break;
    case State::ready: {
        Reason why{"stream", 0,
                   last_stream_error_condition_.empty() ? "peer-closed"
                                                        : last_stream_error_condition_,
                   last_stream_error_text_.empty() ? "the server closed the stream"
                                                   : last_stream_error_text_};
        shutdown(&why);
        break;
    }
    default:
        return;
    }
    if (gen == generation_ && state_ == State::shutting_down) {
        close_transport_gracefully();
    }
}

void ComponentImpl::on_xml_error(const Reason& reason) {
    if (state_ == State::shutting_down) {
        close_transport_gracefully();
        return;
    }
    if (state_ != State::negotiating && state_ != State::ready) {
        return;
    }
    const State was = state_;
    const std::uint64_t gen = generation_;
    state_ = State::shutting_down;
    shutdown_events_ = false;
    negotiation_timer_->stop();
    // RFC 6120 §4.9: tell the peer why the stream ends, then close it.
    send_bytes("<stream:error><" + reason.condition +
               " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
               "</stream:stream>");
    stream_error_sent_ = true;
    log(LogLevel::warning, "closing the stream: " + reason.to_string());
    emit(ev::SOCKETFAIL, &reason);
    if (gen != generation_) {
        return;
    }
    if (was == State::negotiating && protocol_) {
        protocol_->on_connection_lost(reason);
        if (gen != generation_) {
            return;
        }
    }
    close_transport_gracefully();
}

} // namespace pcj::detail
