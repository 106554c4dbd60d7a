// Component: the public broker API, forwarded to the owners ComponentImpl composes.
#include "pcj/component.hpp"

#include <uv.h>

#include "component_impl.hpp"
#include "pcj/error.hpp"

namespace pcj {

// ---------------------------------------------------------------------------------------------
// Public API

std::string_view to_string(Delivery delivery) {
    switch (delivery) {
    case Delivery::queued:
        return "queued";
    case Delivery::sent:
        return "sent";
    case Delivery::acked:
        return "acked";
    case Delivery::failed:
        return "failed";
    case Delivery::dropped:
        return "dropped";
    }
    return "?";
}

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
    impl_->set_owner(this);
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
    if (!impl_->config_.servers.empty()) {
        impl_->lifecycle_.connect_servers();
        return;
    }
    impl_->connect(impl_->config_.ip, impl_->config_.port);
}

void Component::connect(std::string host, std::uint16_t port) {
    if (host.empty() || port == 0) {
        throw ConfigError("connect: host must not be empty and port must be 1-65535");
    }
    // As in PCJ, a new address given here replaces the configured one for good.
    impl_->config_.ip = host;
    impl_->config_.port = port;
    impl_->config_.servers.clear();
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

void Component::output(Node node, std::function<void(const Outcome&)> on_outcome) {
    impl_->output(std::move(node), std::move(on_outcome));
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
    return impl_->lifecycle_.sid();
}
const std::string& Component::jid() const {
    return impl_->lifecycle_.jid();
}
const Config& Component::config() const {
    return impl_->config_;
}
std::map<std::string, std::string> Component::pending() const {
    return impl_->tracker_.snapshot();
}
const std::deque<Node>& Component::queue() const {
    return impl_->outbox_.queue();
}
State Component::state() const {
    return impl_->lifecycle_.state();
}
std::uint64_t Component::id() const {
    return impl_->id_;
}
std::uint64_t Component::connection_id() const {
    return impl_->records_.connection_id();
}
const Session& Component::session() const {
    return impl_->session_.state();
}
Session& Component::session() {
    return impl_->session_.state();
}
std::chrono::steady_clock::time_point Component::last_received() const {
    return impl_->stack_.last_received();
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
    impl_->emitter_.set_logger(std::move(logger));
}

} // namespace pcj
