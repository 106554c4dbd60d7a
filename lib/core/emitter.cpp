// Emitter: events published through the component's PubSub, checked against the generation.
#include "emitter.hpp"

namespace pcj::detail {

bool Emitter::emit(std::string_view event, const Reason* reason, const Node* node) {
    // publish() itself returns at once when nobody listens: asking wanted() first would hash
    // the name twice for every stanza.
    const Token before = token();
    Event e;
    e.name = event;
    e.reason = reason;
    e.node = node;
    events_.publish(e);
    return before.current();
}

bool Emitter::emit(std::string_view event, const Payload& payload, const Node* node,
                   const Reason* reason) {
    const Token before = token();
    Event e;
    e.name = event;
    e.reason = reason;
    e.node = node;
    e.payload = &payload;
    events_.publish(e);
    return before.current();
}

void Emitter::log(LogLevel level, std::string_view line) const {
    // Debug lines are written only when Config::debug asked for them: they pass the threshold.
    if (level != LogLevel::debug && level < log_level()) {
        return;
    }
    if (logger_) {
        logger_(level, alias_, line);
    }
}

} // namespace pcj::detail
