// Emitter: how every part of the core fires events and logs, and the connection generation
// that tells a caller whether an event handler replaced or ended the connection meanwhile.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pcj/log.hpp"
#include "pcj/node.hpp"
#include "pcj/payload.hpp"
#include "pcj/pubsub.hpp"

namespace pcj::detail {

class Emitter {
public:
    // A connection as it was when taken: current() turns false once connect() or the end of
    // the connection bumped the generation (a handler may do either from inside any event).
    class Token {
    public:
        bool current() const { return generation_ == emitter_->generation_; }
        explicit operator bool() const { return current(); }

    private:
        friend class Emitter;
        Token(const Emitter& emitter, std::uint64_t generation)
            : emitter_(&emitter), generation_(generation) {}
        const Emitter* emitter_;
        std::uint64_t generation_;
    };

    // `alias` names the component in log lines (Config::alias, which outlives the Emitter).
    Emitter(PubSub& events, const std::string& alias) : events_(events), alias_(alias) {}

    // Each returns true when the connection is still the one it was before the handlers ran:
    // `if (!emit(...)) return;` is the one re-entrancy guard of the core.
    bool emit(std::string_view event, const Reason* reason = nullptr, const Node* node = nullptr);
    // With a typed payload. Build the payload only when wanted(event): it costs allocations.
    bool emit(std::string_view event, const Payload& payload, const Node* node = nullptr,
              const Reason* reason = nullptr);
    bool wanted(std::string_view event) const { return events_.wanted(event); }
    // Changes whenever a subscription does: lets an owner cache its wanted() answers.
    std::uint64_t revision() const { return events_.revision(); }
    PubSub& events() { return events_; }

    Token token() const { return Token(*this, generation_); }
    // The generation alone, for a handler that reaches the Emitter through its owner: `this` and
    // a generation fit std::function's inline storage, where `this` and a Token take a heap block.
    std::uint64_t generation() const { return generation_; }
    bool current(std::uint64_t generation) const { return generation == generation_; }
    // A connection starts or ends: every Token taken before is no longer current.
    void next_generation() { ++generation_; }

    void log(LogLevel level, std::string_view line) const;
    void set_logger(Logger logger) { logger_ = std::move(logger); }

private:
    PubSub& events_;
    const std::string& alias_;
    Logger logger_ = &stderr_logger;
    std::uint64_t generation_ = 0;
};

} // namespace pcj::detail
