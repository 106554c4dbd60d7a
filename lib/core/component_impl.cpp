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

void HostLink::emit(std::string_view event, const Reason* reason, const Node* node) {
    if (active_) {
        if (event == ev::AUTHSUCCESS) {
            impl_.session_.on_authenticated();
        }
        impl_.emit(event, reason, node);
    }
}

void HostLink::emit(std::string_view event, const Payload& payload, const Node* node,
                    const Reason* reason) {
    if (active_) {
        impl_.emit(event, payload, node, reason);
    }
}

bool HostLink::wanted(std::string_view event) const {
    return active_ && impl_.wanted(event);
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

namespace {

// One job on libuv's threadpool; owned by the request until its after-work callback.
struct OffLoopJob {
    uv_work_t req{};
    std::function<void()> work;
    std::function<void()> done;
};

} // namespace

void HostLink::run_off_loop(std::function<void()> work, std::function<void()> done) {
    if (!active_) {
        return;
    }
    auto job = std::make_unique<OffLoopJob>();
    job->work = std::move(work);
    job->done = std::move(done);
    job->req.data = job.get();
    const int rc = uv_queue_work(
        impl_.loop_, &job->req, [](uv_work_t* req) { static_cast<OffLoopJob*>(req->data)->work(); },
        [](uv_work_t* req, int) {
            const std::unique_ptr<OffLoopJob> owned(static_cast<OffLoopJob*>(req->data));
            try {
                owned->done(); // checks itself whether its connection still exists
            } catch (...) {
                // Nothing may unwind through libuv; the negotiation timeout still runs.
            }
        });
    if (rc != 0) {
        job->work(); // no threadpool: in place, as without a loop
        job->done();
        return;
    }
    static_cast<void>(job.release());
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
    // A connection type whose module is missing is rejected now, not at connect().
    unwrap_ = protocol_entry(*config_.connection_type).unwrap;
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
            // What fails without reading a file fails here; the files are read (once per
            // process) at the first TLS start, where their records reach subscribers.
            TlsCredentials::check(tls_options_);
        } catch (const std::exception& e) {
            throw ConfigError(std::string("tls: ") + e.what());
        }
        tls_possible_ = true;
    }
    if (owns_loop_) {
        loop_ = new uv_loop_t;
        if (int rc = uv_loop_init(loop_); rc != 0) {
            delete loop_;
            throw Error(std::string("uv_loop_init: ") + uv_strerror(rc));
        }
    }
    // shutdown_timer_ and quiet_timer_ are made at first use: each costs ≈ 150 bytes, and an
    // idle connection is meant to cost little.
    negotiation_timer_ = std::make_unique<Timer>(loop_);
    rts_timer_ = std::make_unique<Timer>(loop_);
    door_ = std::make_unique<Door>(loop_, [this](std::vector<Door::Task>& tasks) {
        // One guard per task: a task that throws is logged, and the next ones still run.
        for (auto& task : tasks) {
            guarded("submitted task", [&task] { task(); });
        }
    });

    transport_ = std::make_unique<Transport>(loop_, transport_callbacks());

    XmlStream::Callbacks xc;
    xc.on_stream_start = [this](Node header) {
        on_stream_start(std::move(header));
    };
    // The stream lends each stanza (its storage is reused for the next one): the core only
    // reads it, and Event::node is valid only during the event anyway.
    xc.on_stanza = [this](const Node& node) {
        // <stream:error/> is noted (and xs::ERROR fired) in every state, here only: a stanza
        // costs one string comparison.
        if (node.ns() == config_.stream_ns && node.local_name() == "error" &&
            !on_stream_error(node)) {
            return; // a handler replaced the connection
        }
        on_element(node);
    };
    xc.on_stream_end = [this] {
        on_stream_end();
    };
    xc.on_error = [this](const Reason& r) {
        on_xml_error(r);
    };
    xml_ = std::make_unique<XmlStream>(
        std::move(xc),
        XmlStream::Limits{config_.max_stanza_size, config_.max_depth, config_.max_attributes,
                          config_.max_namespace_declarations, config_.max_stanza_time});
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
    quiet_timer_.reset();
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
    // The socket records of the connection this one replaces (no net:: or PCJ event: PCJ's
    // reconnect drops it silently).
    if (!announce_closed(false)) {
        return;
    }
    announce_deleted();
    if (gen != generation_) {
        return;
    }
    negotiation_timer_->stop();
    if (shutdown_timer_) {
        shutdown_timer_->stop();
    }
    if (quiet_timer_) {
        quiet_timer_->stop();
    }
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
    deleted_owed_ = true;
    lost_reason_.reset();
    peer_ = Endpoint{};
    plain_read_ = 0;
    plain_written_ = 0;
    plain_at_drain_ = 0;
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
    if (gen != generation_) {
        return; // a handler of a lookup record replaced the connection
    }
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
    if (!announce_connected()) {
        return;
    }
    emit(ev::CONNECTED);
    if (gen != generation_ || !protocol_) {
        return;
    }
    if (config_.tls.policy == TlsPolicy::direct && tls_possible_) {
        start_tls(); // XEP-0368: the stream starts once TLS is up
        return;
    }
    protocol_->on_connected();
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
    const std::uint64_t gen = generation_;
    emit(xs::START_STREAM, nullptr, &header);
    if (gen == generation_) {
        emit(ev::STREAMSTART, nullptr, &header);
    }
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
    if (!shutdown_timer_) {
        shutdown_timer_ = std::make_unique<Timer>(loop_);
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
    note_lost(reason);
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
    if (shutdown_timer_) {
        shutdown_timer_->stop();
    }
    if (quiet_timer_) {
        quiet_timer_->stop();
    }
    retire_protocol();
    ++generation_;
    session_.on_closed();
    const std::uint64_t gen = generation_;
    answer_lost_requests("disconnected");
    if (gen != generation_) {
        return;
    }
    if (!announce_closed(true)) {
        return;
    }
    emit(ev::SOCKETDISCONNECT);
    if (shutdown_events && gen == generation_) {
        emit(ev::SHUTDOWN_FINISH);
    }
    if (gen == generation_) {
        announce_deleted();
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
            emit(net::TCP_FAILED, &reason);
        }
        if (gen == generation_) {
            emit(ev::CONNECTFAIL, &reason);
        }
        if (gen == generation_) {
            announce_deleted();
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
    note_lost(reason);
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

} // namespace pcj::detail
