// Lifecycle: the reconnect policy and the server list (Config::servers) — what happens after a
// connection has ended, and where the next one goes.
#include "lifecycle.hpp"

#include <charconv>

#include "event_records.hpp"
#include "request_tracker.hpp"

namespace pcj::detail {

// ---------------------------------------------------------------------------------------------
// The reconnect policy

void Lifecycle::shutdown_by_application(const Reason* why) {
    policy_stopped_ = true;
    if (reconnect_timer_) {
        reconnect_timer_->stop();
    }
    shutdown(why);
}

// The first failure is the cause; what follows it (the socket closing) is its consequence.
// The cause is logged, so that an application that subscribes to no failure event still
// learns why it never got to READY (refused, DNS, TLS, authentication) or lost its link.
void Lifecycle::note_failure(std::string_view event, const Reason& reason) {
    if (!failure_reason_) {
        failure_event_ = std::string(event);
        failure_reason_ = reason;
        const auto level = event == ev::SOCKETDISCONNECT ? LogLevel::warning : LogLevel::error;
        emitter_.log(level, std::string(event) + ": " + reason.to_string());
    }
}

// The connection has ended and every event of its end has fired, none replacing it.
void Lifecycle::after_end() {
    if (!config_.reconnect.enabled || policy_stopped_) {
        return;
    }
    const std::string event =
        failure_event_.empty() ? std::string(ev::SOCKETDISCONNECT) : failure_event_;
    const Reason why = failure_reason_.value_or(
        Reason{"stream", 0, "peer-closed", "the connection ended without an error"});
    if (classify_failure(event, &why) == FailureKind::fatal) {
        stop_policy(why);
        return;
    }
    if (why.condition == "see-other-host") {
        follow_other_host();
    }
    const auto delay = backoff_.next();
    if (!delay) {
        stop_policy(Reason{"reconnect", 0, "attempts-exhausted",
                           std::to_string(config_.reconnect.max_attempts) +
                               " attempts failed; the last: " + why.to_string()});
        return;
    }
    if (!reconnect_timer_) {
        reconnect_timer_ = std::make_unique<Timer>(loop_);
    }
    // Armed before the event: a handler's shutdown() or connect() cancels it.
    reconnect_timer_->start(*delay,
                            [this] { graveyard_.guarded("reconnect", [this] { redial(); }); });
    emitter_.log(LogLevel::info, "reconnecting in " + std::to_string(delay->count()) +
                                     " ms (attempt " + std::to_string(backoff_.attempt()) +
                                     ") after " + event + ": " + why.to_string());
    emitter_.emit(un::RECONNECT_DELAY, Payload(ReconnectAttempt{backoff_.attempt(), *delay}),
                  nullptr, &why);
}

void Lifecycle::stop_policy(const Reason& why) {
    policy_stopped_ = true;
    const unsigned attempts = backoff_.attempt();
    backoff_.reset(); // the application's next connect() starts afresh
    emitter_.log(LogLevel::warning, "reconnect policy stopped: " + why.to_string());
    emitter_.emit(un::RECONNECT_STOPPED, Payload(ReconnectAttempt{attempts, {}}), nullptr, &why);
}

// RFC 6120 §4.9.3.19: the element's text is "host", "host:port", "[v6]" or "[v6]:port"; without
// a port the one in use is kept.
void Lifecycle::follow_other_host() {
    std::string_view text = parts_.records.other_host();
    while (!text.empty() && (text.front() == ' ' || text.front() == '\n')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) {
        text.remove_suffix(1);
    }
    if (text.empty()) {
        return;
    }
    std::string_view host = text;
    std::string_view port;
    if (text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            return;
        }
        host = text.substr(1, close - 1);
        if (close + 1 < text.size() && text[close + 1] == ':') {
            port = text.substr(close + 2);
        }
    } else if (const auto colon = text.find(':');
               colon != std::string_view::npos &&
               text.find(':', colon + 1) == std::string_view::npos) {
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    std::uint16_t number = target_port_;
    if (!port.empty()) {
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
        if (ec != std::errc() || end != port.data() + port.size() || number == 0) {
            emitter_.log(LogLevel::warning,
                         "see-other-host: bad port in '" + std::string(text) + "'");
            return;
        }
    }
    emitter_.log(LogLevel::info, "see-other-host: following to " + std::string(text));
    use_servers_ = false; // the server named wins over the list, until the next connect()
    target_host_ = std::string(host);
    target_port_ = number;
}

// ---------------------------------------------------------------------------------------------
// Config::servers

// A server of the list could not be reached and another one is left in the round: say so and
// try that one at once (from the loop, not from inside the failed connection's callbacks).
bool Lifecycle::try_next_server(const Reason& reason) {
    if (!use_servers_ || !rotation_.has_next()) {
        return false;
    }
    end_connection();
    const Emitter::Token connection = emitter_.token();
    parts_.tracker.answer_lost("disconnected");
    if (!connection || !emitter_.emit(net::TCP_FAILED, &reason) ||
        !emitter_.emit(un::SERVER_FAILED, Payload(rotation_.choice()), nullptr, &reason)) {
        return true;
    }
    parts_.records.announce_deleted();
    if (!connection || state_ != State::disconnected || policy_stopped_) {
        return true; // a handler connected again or called shutdown()
    }
    rotation_.advance();
    if (!reconnect_timer_) {
        reconnect_timer_ = std::make_unique<Timer>(loop_);
    }
    reconnect_timer_->start(std::chrono::milliseconds(0),
                            [this] { graveyard_.guarded("next server", [this] { redial(); }); });
    return true;
}

} // namespace pcj::detail
