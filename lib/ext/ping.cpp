// XEP-0199 XMPP Ping: the responder (§3, §4.2), one-off pings, and the keepalive that detects a
// dead connection (§4.4, "client-to-server ping" used as a liveness check).
//
//   READY ──▶ armed ──(idle ≥ interval)──▶ ping sent ──(any reply)──▶ armed
//                 ▲                                   └─(timeout)──▶ PING_TIMEOUT, abort()
//                 └── re-armed for the rest of the interval when something arrived meanwhile
//   CONNECT, SHUTDOWN_START, SOCKETFAIL, SOCKETDISCONNECT, detach ──▶ stopped
#include "pcj/ping.hpp"

#include "pcj/component.hpp"
#include "pcj/error.hpp"
#include "stanza_util.hpp"
#include "timer.hpp"

namespace pcj {

using Clock = std::chrono::steady_clock;

struct Ping::State : std::enable_shared_from_this<State> {
    Options options;
    Component* component = nullptr;
    std::unique_ptr<detail::Timer> timer; // only while attached: it belongs to the loop
    std::vector<Subscription> subscriptions;
    bool outstanding = false;
    std::uint64_t round = 0; // bumped whenever the keepalive stops: older replies are stale
    std::uint64_t sent = 0;
    std::uint64_t answered = 0;

    void attach(Component& c);
    void detach();
    void start();
    void stop();
    void arm(std::chrono::milliseconds after);
    void check();
    void send_keepalive();
    void on_reply(std::uint64_t for_round, const Event& e);
    std::string target() const;
};

void Ping::State::attach(Component& c) {
    component = &c;
    if (options.interval.count() <= 0) {
        return;
    }
    timer = std::make_unique<detail::Timer>(c.loop());
    // Handlers hold the state weakly: the extension may be detached and dropped meanwhile.
    std::weak_ptr<State> weak = weak_from_this();
    auto on = [weak](void (State::*what)()) {
        return [weak, what](const Event&) {
            if (auto self = weak.lock()) {
                ((*self).*what)();
            }
        };
    };
    subscriptions.push_back(c.subscribe(ev::READY, on(&State::start)));
    for (auto name : {ev::CONNECT, ev::SHUTDOWN_START, ev::SOCKETFAIL, ev::SOCKETDISCONNECT}) {
        subscriptions.push_back(c.subscribe(name, on(&State::stop)));
    }
    if (c.ready()) {
        start();
    }
}

void Ping::State::detach() {
    stop();
    subscriptions.clear();
    timer.reset(); // closes the uv handle while the loop is certainly alive
    component = nullptr;
}

void Ping::State::start() {
    stop();
    arm(options.interval);
}

void Ping::State::stop() {
    ++round;
    outstanding = false;
    if (timer) {
        timer->stop();
    }
}

void Ping::State::arm(std::chrono::milliseconds after) {
    if (!timer) {
        return;
    }
    std::weak_ptr<State> weak = weak_from_this();
    const std::uint64_t armed_round = round;
    timer->start(after, [weak, armed_round] {
        auto self = weak.lock();
        if (!self || self->round != armed_round || self->component == nullptr) {
            return;
        }
        // The ping's writes run subscribers (PCJ_NODESENT, …), whose exceptions must not reach
        // libuv: the component's door runs the task on this loop and logs what escapes it.
        self->component->post([weak, armed_round](Component&) {
            auto me = weak.lock();
            if (me && me->round == armed_round) {
                me->check();
            }
        });
    });
}

void Ping::State::check() {
    Component* c = component;
    if (c == nullptr || !c->ready() || outstanding) {
        return;
    }
    const auto idle = Clock::now() - c->last_received();
    if (idle < options.interval) {
        arm(std::chrono::ceil<std::chrono::milliseconds>(options.interval - idle));
        return;
    }
    send_keepalive();
}

std::string Ping::State::target() const {
    if (!options.keepalive_to.empty()) {
        return options.keepalive_to;
    }
    return detail::is_component(*component) ? detail::self_address(*component)
                                            : component->config().hostname;
}

void Ping::State::send_keepalive() {
    Component& c = *component;
    outstanding = true;
    ++sent;
    Node iq = build("iq").attr("type", "get").attr("to", target());
    iq.add_child("ping", std::string(ping_ns));
    std::weak_ptr<State> weak = weak_from_this();
    const std::uint64_t for_round = round;
    c.return_to_sender(
        detail::outbound(c, std::move(iq)),
        [weak, for_round](const Event& e) {
            if (auto self = weak.lock()) {
                self->on_reply(for_round, e);
            }
        },
        options.timeout);
}

void Ping::State::on_reply(std::uint64_t for_round, const Event& e) {
    if (for_round != round || component == nullptr) {
        return; // the keepalive stopped since (new connection, detach): not our business now
    }
    outstanding = false;
    if (e.node != nullptr) {
        ++answered;
        arm(options.interval);
        return;
    }
    if (e.reason == nullptr || e.reason->condition != "timeout") {
        return; // "disconnected": the connection's end is reported by the component itself
    }
    Component* c = component;
    const std::uint64_t connection = c->connection_id();
    Reason why{"keepalive", 0, "timeout",
               "no reply to the keepalive ping within " + std::to_string(options.timeout.count()) +
                   " ms"};
    Event timeout;
    timeout.name = ext::PING_TIMEOUT;
    timeout.reason = &why;
    c->events().publish(timeout);
    // A subscriber may have reconnected or shut down: then this connection is not ours to drop.
    if (c->connection_id() == connection && c->ready()) {
        c->abort(why);
    }
}

// ---------------------------------------------------------------------------------------------

Ping::Ping() : Ping(Options{}) {}

Ping::Ping(Options options) : state_(std::make_shared<State>()) {
    if (options.interval.count() > 0 && options.timeout.count() <= 0) {
        throw ConfigError("ping: a keepalive needs a timeout above zero");
    }
    state_->options = std::move(options);
}

Ping::~Ping() = default;

std::vector<StanzaMatch> Ping::handles() const {
    return {StanzaMatch{"iq", "get", std::string(ping_ns)}};
}

std::vector<std::string> Ping::emits() const {
    return {std::string(ext::PING_TIMEOUT)};
}

std::vector<std::string> Ping::features() const {
    if (!state_->options.respond) {
        return {};
    }
    return {std::string(ping_ns)};
}

void Ping::attached(Component& component) {
    state_->attach(component);
}

void Ping::detached(Component& component) {
    (void)component;
    state_->detach();
}

bool Ping::on_stanza(Component& component, const Node& stanza) {
    const Node& iq = detail::inner_stanza(stanza);
    if (!state_->options.respond || iq.attr("type") != "get" ||
        detail::find_child(iq, "ping", ping_ns) == nullptr ||
        !detail::addressed_to_self(component, iq)) {
        return false;
    }
    component.output(detail::iq_reply(component, stanza, "result"));
    return true;
}

std::string Ping::ping(std::string jid, Callback callback, std::chrono::milliseconds timeout) {
    Component* c = state_->component;
    if (c == nullptr) {
        throw StateError("ping: ping() needs the extension attached to a component");
    }
    if (!callback) {
        throw Error("ping: the callback must not be empty");
    }
    Node iq = build("iq").attr("type", "get").attr("to", std::move(jid));
    iq.add_child("ping", std::string(ping_ns));
    const auto start = Clock::now();
    auto on_reply = [start, callback = std::move(callback)](const Event& e) {
        PingResult r;
        if (e.node != nullptr) {
            r.answered = true;
            r.rtt = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
            if (detail::is_error_reply(*e.node)) {
                r.error = detail::error_reply_reason(*e.node, "ping").condition;
            }
        } else {
            r.failure = e.reason != nullptr ? *e.reason : Reason{};
            r.failure->op = "ping";
        }
        callback(r);
    };
    return c->return_to_sender(detail::outbound(*c, std::move(iq)), std::move(on_reply), timeout);
}

const Ping::Options& Ping::options() const {
    return state_->options;
}

std::uint64_t Ping::keepalives_sent() const {
    return state_->sent;
}

std::uint64_t Ping::keepalives_answered() const {
    return state_->answered;
}

} // namespace pcj
