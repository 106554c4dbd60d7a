// Component: the public broker API, and the stanza paths in and out (queue, RTS, filters).
#include "pcj/component.hpp"

#include <uv.h>

#include "component_impl.hpp"
#include "pcj/error.hpp"

namespace pcj {

namespace detail {

namespace {
constexpr std::string_view rts_event_name = "return_to_sender";
} // namespace

// ---------------------------------------------------------------------------------------------
// Inbound stanzas

void ComponentImpl::on_element(const Node& node) {
    if (config_.debug) {
        log(LogLevel::debug, "Recd: " + node.to_string(content_ns_));
    }
    if (events_.revision() != stanza_events_.revision || stanza_events_.any) {
        const std::uint64_t gen = generation_;
        emit_stanza_events(node);
        if (gen != generation_) {
            return;
        }
    }
    if (state_ == State::ready) {
        dispatch_ready(node);
        return;
    }
    if (state_ != State::negotiating) {
        return; // shutting down: the rest of the stream is of no interest
    }
    if (deliver_reply(node, false)) {
        return;
    }
    if (node.local_name() == "features" && node.ns() == config_.stream_ns) {
        session_.on_features(node); // roster versioning is announced here
    }
    if (protocol_) {
        protocol_->on_node(node);
    }
}

// seeds/000's node, iq, message, presence and iq_<type> events, for every element parsed. A
// jabberd2 <route/> is classified by the stanza it carries.
void ComponentImpl::emit_stanza_events(const Node& node) {
    StanzaEventsWanted& w = stanza_events_;
    if (events_.revision() != w.revision) {
        w.revision = events_.revision();
        w.node = wanted(xs::NODE);
        w.iq = wanted(xs::IQ);
        w.message = wanted(xs::MESSAGE);
        w.presence = wanted(xs::PRESENCE);
        w.iq_result = wanted(xs::IQ_RESULT);
        w.iq_set = wanted(xs::IQ_SET);
        w.iq_get = wanted(xs::IQ_GET);
        w.iq_error = wanted(xs::IQ_ERROR);
        w.any = w.node || w.iq || w.message || w.presence || w.iq_result || w.iq_set || w.iq_get ||
                w.iq_error;
    }
    if (!w.any) {
        return;
    }
    const std::uint64_t gen = generation_;
    if (w.node) {
        emit(xs::NODE, nullptr, &node);
    }
    const Node& stanza = stanza_of(node);
    if (stanza.ns() == config_.stream_ns || gen != generation_) {
        return; // <stream:features/>, <stream:error/>: not stanzas
    }
    const std::string_view name = stanza.local_name();
    if (name == "iq") {
        if (w.iq) {
            emit(xs::IQ, nullptr, &node);
        }
        const std::string* type = stanza.find_attr("type");
        if (type == nullptr || gen != generation_) {
            return;
        }
        if (*type == "result" && w.iq_result) {
            emit(xs::IQ_RESULT, nullptr, &node);
        } else if (*type == "set" && w.iq_set) {
            emit(xs::IQ_SET, nullptr, &node);
        } else if (*type == "get" && w.iq_get) {
            emit(xs::IQ_GET, nullptr, &node);
        } else if (*type == "error" && w.iq_error) {
            emit(xs::IQ_ERROR, nullptr, &node);
        }
    } else if (name == "message" && w.message) {
        emit(xs::MESSAGE, nullptr, &node);
    } else if (name == "presence" && w.presence) {
        emit(xs::PRESENCE, nullptr, &node);
    }
}

void ComponentImpl::dispatch_ready(const Node& node) {
    // (1) A reply to return_to_sender goes to its requester and no further.
    if (deliver_reply(node, true)) {
        return;
    }
    const std::uint64_t gen = generation_;
    // (2) The session's own traffic (roster pushes), then the extensions' stanzas.
    if (session_.on_inbound(node) || gen != generation_) {
        return;
    }
    if (!extensions_.empty() && owner_ != nullptr) {
        if (extensions_.dispatch(*owner_, node, stanza_of(node)) || gen != generation_) {
            return;
        }
    }
    // (3) Every matching filter fires its event.
    if (!filters_.empty()) {
        filters_.evaluate(node, [&](std::string_view event, std::string_view xpath,
                                    std::span<const Node> matches) {
            if (gen != generation_) {
                return;
            }
            Event e;
            e.name = event;
            e.node = &node;
            e.xpath = xpath;
            e.matches = matches;
            events_.publish(e);
        });
        if (gen != generation_) {
            return;
        }
    }
    // (4) Then PCJ_NODERECEIVED.
    emit(ev::NODERECEIVED, nullptr, &node);
}

bool ComponentImpl::deliver_reply(const Node& node, bool after_ready) {
    if (pending_.empty()) {
        return false;
    }
    const std::string* id = stanza_of(node).find_attr("id");
    if (id == nullptr) {
        return false;
    }
    auto request = pending_.take(*id);
    if (!request) {
        return false;
    }
    if (request->deadline) {
        arm_rts_timer();
    }
    const std::uint64_t gen = generation_;
    const bool internal = request->internal;
    deliver_to_requester(*id, *request, &node, nullptr);
    if (after_ready && !internal && gen == generation_) {
        emit(ev::RTS_FINISH, nullptr, &node);
    }
    return true;
}

void ComponentImpl::deliver_to_requester(const std::string& id, PendingRequest& request,
                                         const Node* reply, const Reason* failure) {
    (void)id;
    Event e;
    e.name = request.event.empty() ? rts_event_name : std::string_view(request.event);
    e.node = reply;
    e.reason = failure;
    if (request.callback) {
        request.callback(e);
    } else {
        events_.publish(e);
    }
}

void ComponentImpl::answer_lost_requests(const char* condition) {
    if (pending_.empty()) {
        return;
    }
    auto lost = pending_.take_sent();
    arm_rts_timer();
    for (auto& [id, request] : lost) {
        if (request.internal) {
            continue; // the protocol module that asked is gone with its connection
        }
        Reason why{"return_to_sender", 0, condition,
                   "the connection ended before the reply to '" + id + "' arrived"};
        deliver_to_requester(id, request, nullptr, &why);
    }
}

void ComponentImpl::arm_rts_timer() {
    const auto next = pending_.next_deadline();
    if (!next) {
        rts_timer_->stop();
        return;
    }
    const auto now = PendingTable::Clock::now();
    const auto wait = *next <= now ? std::chrono::milliseconds(0)
                                   : std::chrono::ceil<std::chrono::milliseconds>(*next - now);
    rts_timer_->start(wait, [this] { guarded("rts timeout", [this] { on_rts_timer(); }); });
}

void ComponentImpl::on_rts_timer() {
    auto expired = pending_.take_expired(PendingTable::Clock::now());
    for (auto& [id, request] : expired) {
        Reason why{"return_to_sender", 0, "timeout",
                   "no reply to '" + id + "' within the request's timeout"};
        deliver_to_requester(id, request, nullptr, &why);
    }
    arm_rts_timer();
}

// ---------------------------------------------------------------------------------------------
// Outbound

void ComponentImpl::write_node(const Node& node) {
    write_buffer_.clear();
    node.append_to(write_buffer_, content_ns_);
    if (config_.debug) {
        log(LogLevel::debug, "Sent: " + write_buffer_);
    }
    if (!pending_.empty()) {
        if (const std::string* id = stanza_of(node).find_attr("id")) {
            if (PendingRequest* request = pending_.find(*id)) {
                request->sent = true;
            }
        }
    }
    send_bytes(write_buffer_);
    session_.on_outbound(node);
    emit(ev::NODESENT, nullptr, &node);
}

void ComponentImpl::output(Node node) {
    Depth depth(*this);
    if (state_ == State::ready) {
        write_node(node);
        return;
    }
    if (!events_.wanted(ev::NODEQUEUED)) {
        queue_.push_back(std::move(node));
        return;
    }
    // Subscribers get their own copy: a handler may purge the queue while it runs.
    Node copy = node;
    queue_.push_back(std::move(node));
    emit(ev::NODEQUEUED, nullptr, &copy);
}

void ComponentImpl::purge_queue() {
    Depth depth(*this);
    if (state_ != State::ready) {
        log(LogLevel::info,
            "purge_queue: not ready; " + std::to_string(queue_.size()) + " node(s) stay queued");
        return;
    }
    if (config_.debug) {
        log(LogLevel::debug, "Items pulled from queue: " + std::to_string(queue_.size()));
    }
    const std::uint64_t gen = generation_;
    while (!queue_.empty() && state_ == State::ready && gen == generation_) {
        Node node = std::move(queue_.front());
        queue_.pop_front();
        write_node(node);
    }
}

std::string ComponentImpl::return_to_sender(Node node, PendingRequest request,
                                            std::chrono::milliseconds timeout) {
    Depth depth(*this);
    if (timeout.count() <= 0) {
        timeout = config_.rts_timeout;
    }
    if (timeout.count() > 0) {
        request.deadline = PendingTable::Clock::now() + timeout;
    }
    const bool has_deadline = request.deadline.has_value();
    // The id goes on the stanza an envelope carries; the node is ours (moved in).
    std::string id = pending_.add(const_cast<Node&>(stanza_of(node)), std::move(request));
    if (has_deadline) {
        arm_rts_timer();
    }
    emit(ev::RTS_START, nullptr, &node);
    output(std::move(node));
    return id;
}

std::string ComponentImpl::internal_request(Node node, Handler on_reply) {
    PendingRequest request;
    request.callback = std::move(on_reply);
    request.internal = true;
    std::string id = pending_.add(node, std::move(request));
    const std::uint64_t gen = generation_;
    emit(ev::RTS_START, nullptr, &node);
    if (gen == generation_) {
        write_node(node);
    }
    return id;
}

} // namespace detail

// ---------------------------------------------------------------------------------------------
// Public API

std::string_view to_string(State state) {
    switch (state) {
    case State::disconnected:
        return "disconnected";
    case State::connecting:
        return "connecting";
    case State::negotiating:
        return "negotiating";
    case State::ready:
        return "ready";
    case State::shutting_down:
        return "shutting_down";
    }
    return "?";
}

Component::Component(Config config, uv_loop_t* loop)
    : impl_(std::make_unique<detail::ComponentImpl>(std::move(config), loop)) {
    impl_->owner_ = this;
}

Component::~Component() {
    // Extensions hear of it while the component is still whole.
    impl_->extensions_.detach_all(*this);
}

PubSub& Component::events() {
    return impl_->events_;
}

Subscription Component::subscribe(std::string_view event, Handler handler) {
    return impl_->events_.subscribe(event, std::move(handler));
}

Subscription Component::subscribe_all(Handler handler) {
    return impl_->events_.subscribe_all(std::move(handler));
}

void Component::connect() {
    impl_->connect(impl_->config_.ip, impl_->config_.port);
}

void Component::connect(std::string host, std::uint16_t port) {
    if (host.empty() || port == 0) {
        throw ConfigError("connect: host must not be empty and port must be 1-65535");
    }
    // As in PCJ, a new address given here replaces the configured one for good.
    impl_->config_.ip = host;
    impl_->config_.port = port;
    impl_->connect(std::move(host), port);
}

void Component::reconnect() {
    connect();
}

void Component::reconnect(std::string host, std::uint16_t port) {
    connect(std::move(host), port);
}

void Component::output(Node node) {
    impl_->output(std::move(node));
}

void Component::purge_queue() {
    impl_->purge_queue();
}

std::string Component::return_to_sender(Node node, std::string event,
                                        std::chrono::milliseconds timeout) {
    if (event.empty()) {
        throw Error("return_to_sender: the event name must not be empty");
    }
    detail::PendingRequest request;
    request.event = std::move(event);
    return impl_->return_to_sender(std::move(node), std::move(request), timeout);
}

std::string Component::return_to_sender(Node node, Handler callback,
                                        std::chrono::milliseconds timeout) {
    if (!callback) {
        throw Error("return_to_sender: the callback must not be empty");
    }
    detail::PendingRequest request;
    request.callback = std::move(callback);
    return impl_->return_to_sender(std::move(node), std::move(request), timeout);
}

void Component::add_filter(std::string event, std::string xpath) {
    if (event.empty()) {
        throw XPathError("add_filter: the event name must not be empty");
    }
    impl_->filters_.add(std::move(event), std::move(xpath));
}

std::size_t Component::remove_filter(std::string_view event) {
    return impl_->filters_.remove(event);
}

void Component::ns_prefix(std::string prefix, std::string uri) {
    impl_->filters_.ns_prefix(std::move(prefix), std::move(uri));
}

void Component::shutdown() {
    impl_->shutdown();
}

void Component::abort(Reason reason) {
    impl_->abort(std::move(reason));
}

void Component::attach(std::shared_ptr<Extension> extension) {
    impl_->extensions_.attach(*this, std::move(extension));
}

bool Component::detach(std::string_view name) {
    return impl_->extensions_.detach(*this, name);
}

Extension* Component::extension(std::string_view name) const {
    return impl_->extensions_.find(name);
}

const std::string& Component::sid() const {
    return impl_->sid_;
}
const std::string& Component::jid() const {
    return impl_->jid_;
}
const Config& Component::config() const {
    return impl_->config_;
}
std::map<std::string, std::string> Component::pending() const {
    return impl_->pending_.snapshot();
}
const std::deque<Node>& Component::queue() const {
    return impl_->queue_;
}
State Component::state() const {
    return impl_->state_;
}
std::uint64_t Component::id() const {
    return impl_->id_;
}
std::uint64_t Component::connection_id() const {
    return impl_->connection_id_;
}
const Session& Component::session() const {
    return impl_->session_.state();
}
Session& Component::session() {
    return impl_->session_.state();
}
std::chrono::steady_clock::time_point Component::last_received() const {
    return impl_->last_received_;
}
uv_loop_t* Component::loop() const {
    return impl_->loop_;
}

void Component::run() {
    if (!impl_->owns_loop_) {
        throw StateError("run: this component borrows the application's loop; run that loop");
    }
    uv_run(impl_->loop_, UV_RUN_DEFAULT);
}

void Component::stop() {
    uv_stop(impl_->loop_);
}

void Component::set_logger(Logger logger) {
    impl_->logger_ = std::move(logger);
}

} // namespace pcj
