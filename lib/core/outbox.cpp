// Outbox: the queue, its limits and pace, the write of every stanza, the outcomes, and the
// requests whose stanza it writes.
#include "outbox.hpp"

#include "lifecycle.hpp"
#include "request_tracker.hpp"
#include "session.hpp"
#include "stream_management.hpp"
#include "stream_stack.hpp"

namespace pcj::detail {

namespace {

void report(OutcomeHandler& handler, Delivery status, const Reason* why = nullptr,
            std::chrono::milliseconds waited = {}) {
    if (handler) {
        handler(Outcome{status, why != nullptr ? *why : Reason{}, waited});
    }
}

Reason queue_full(std::string text) {
    return Reason{"queue", 0, "queue-full", std::move(text)};
}

} // namespace

Outbox::Outbox(uv_loop_s* loop, const Config& config, Emitter& emitter, Graveyard& graveyard,
               Envelope envelope, StreamStack& stack, RequestTracker& tracker,
               SessionKeeper& session, const Lifecycle& lifecycle)
    : config_(config), emitter_(emitter), graveyard_(graveyard), envelope_(envelope), stack_(stack),
      tracker_(tracker), session_(session), lifecycle_(lifecycle),
      content_ns_(config.effective_xmlns()),
      sizes_needed_(config.queue.max_bytes > 0 || config.rate_limit.bytes_per_second > 0),
      bucket_(config.rate_limit.stanzas_per_second, config.rate_limit.bytes_per_second,
              Clock::now()) {
    if (bucket_.limited()) {
        rate_timer_ = std::make_unique<Timer>(loop);
    }
}

void Outbox::send_bytes(const Node& node) {
    write_buffer_.clear();
    node.append_to(write_buffer_, content_ns_);
    if (config_.debug) {
        emitter_.log(LogLevel::debug, "Sent: " + write_buffer_);
    }
    if (!tracker_.idle()) {
        tracker_.on_written(envelope_.stanza_of(node));
    }
    stack_.send(write_buffer_);
}

void Outbox::after_send(const Node& node) {
    session_.on_outbound(node);
    emitter_.emit(ev::NODESENT, nullptr, &node);
}

void Outbox::write(const Node& node) {
    send_bytes(node);
    // XEP-0198: kept until the server acknowledges it (its bytes, still in write_buffer_).
    // Before PCJ_NODESENT, so that a stanza a subscriber writes from that event is counted
    // after this one, as the server counts them.
    if (sm_ != nullptr) {
        sm_->on_written(node, write_buffer_);
    }
    after_send(node);
}

// An application stanza's write: its bytes went to the stack, so it is `sent`. Without stream
// management that is the final report; with it, the acknowledgement (or its absence) is.
void Outbox::write_stanza(const Node& node, OutcomeHandler handler,
                          std::optional<Clock::time_point> since) {
    if (!handler) {
        write(node);
        return;
    }
    // A stanza written as it was output waited nothing: no clock read (one costs as much as
    // the rest of the outcome's bookkeeping).
    std::chrono::milliseconds waited{0};
    if (since) {
        const auto now = Clock::now();
        if (now > *since) {
            waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - *since);
        }
    }
    if (sm_ == nullptr) {
        write(node);
        report(handler, Delivery::sent, nullptr, waited);
        return;
    }
    // One handler for both reports, never copied: stream management keeps the stanza now (its
    // count and bytes before PCJ_NODESENT, as write() does), the handler hears `sent`, and
    // then goes to stream management for `acked` — which tells it at once what happened to
    // the stanza meanwhile if a handler settled it. A stanza it does not keep (not enabled,
    // not a stanza) ends with `sent`.
    send_bytes(node);
    const std::uint64_t seq = sm_->keep_pending(node, write_buffer_);
    after_send(node);
    report(handler, Delivery::sent, nullptr, waited);
    sm_->adopt(seq, std::move(handler));
}

std::size_t Outbox::size_of(const Node& node) {
    if (!sizes_needed_) {
        return 0;
    }
    write_buffer_.clear();
    node.append_to(write_buffer_, content_ns_);
    return write_buffer_.size();
}

void Outbox::output(Node node, OutcomeHandler handler) {
    const bool ready = lifecycle_.state() == State::ready;
    if (ready && !bucket_.limited()) {
        if (handler) {
            write_stanza(node, std::move(handler), std::nullopt);
        } else {
            write(node); // the plain output(): no clock, no outcome
        }
        return;
    }
    const std::size_t bytes = size_of(node);
    if (ready) {
        // Behind a queue that is being written at the rate limit's pace, or now if it allows.
        const bool behind = draining_ && !queue_.empty();
        const auto wait = behind ? std::chrono::milliseconds(1) : bucket_.wait(bytes, Clock::now());
        if (wait.count() == 0) {
            bucket_.take(bytes);
            write_stanza(node, std::move(handler), std::nullopt);
            return;
        }
        draining_ = true;
        if (!rate_timer_->active()) {
            arm_rate_timer(wait);
        }
    }
    enqueue(std::move(node), std::move(handler), bytes);
}

// Whether `node` may join the queue, after dropping the oldest stanzas if the policy says so;
// when it may not, it is refused with its event and outcome.
bool Outbox::make_room(const Node& node, std::size_t bytes, OutcomeHandler& handler) {
    const QueueConfig& limits = config_.queue;
    const auto over = [&] {
        return (limits.max_stanzas > 0 && queue_.size() + 1 > limits.max_stanzas) ||
               (limits.max_bytes > 0 && queued_bytes_ + bytes > limits.max_bytes);
    };
    if (!over()) {
        return true;
    }
    const bool fits_alone = limits.max_bytes == 0 || bytes <= limits.max_bytes;
    if (limits.when_full == QueueFullPolicy::drop_oldest && fits_alone) {
        while (over() && !queue_.empty()) {
            Node oldest;
            Slot slot = pop_front(oldest);
            const Reason why = queue_full("dropped from the full output queue to make room");
            emitter_.emit(un::QUEUE_DROPPED, &why, &oldest);
            report(slot.handler, Delivery::dropped, &why);
        }
        if (!over()) {
            return true;
        }
    }
    const Reason why =
        queue_full("the output queue is full (" + std::to_string(queue_.size()) + " stanzas, " +
                   std::to_string(queued_bytes_) + " bytes); the stanza is refused");
    emitter_.emit(un::QUEUE_REJECTED, &why, &node);
    report(handler, Delivery::failed, &why);
    return false;
}

void Outbox::enqueue(Node node, OutcomeHandler handler, std::size_t bytes) {
    if (!make_room(node, bytes, handler)) {
        return;
    }
    report(handler, Delivery::queued);
    queued_bytes_ += bytes;
    slots_.push_back(Slot{std::move(handler), bytes, Clock::now()});
    if (!emitter_.wanted(ev::NODEQUEUED)) {
        queue_.push_back(std::move(node));
        return;
    }
    // Subscribers get their own copy: a handler may purge the queue while it runs.
    Node copy = node;
    queue_.push_back(std::move(node));
    emitter_.emit(ev::NODEQUEUED, nullptr, &copy);
}

Outbox::Slot Outbox::pop_front(Node& node) {
    node = std::move(queue_.front());
    queue_.pop_front();
    Slot slot = std::move(slots_.front());
    slots_.pop_front();
    queued_bytes_ -= slot.bytes;
    return slot;
}

void Outbox::requeue_front(std::vector<std::pair<Node, OutcomeHandler>> stanzas) {
    const auto now = Clock::now();
    for (auto it = stanzas.rbegin(); it != stanzas.rend(); ++it) {
        const std::size_t bytes = size_of(it->first);
        queued_bytes_ += bytes;
        slots_.push_front(Slot{std::move(it->second), bytes, now});
        queue_.push_front(std::move(it->first));
    }
}

void Outbox::purge() {
    if (lifecycle_.state() != State::ready) {
        emitter_.log(LogLevel::info, "purge_queue: not ready; " + std::to_string(queue_.size()) +
                                         " node(s) stay queued");
        return;
    }
    if (config_.debug) {
        emitter_.log(LogLevel::debug, "Items pulled from queue: " + std::to_string(queue_.size()));
    }
    if (bucket_.limited()) {
        draining_ = true;
        drain();
        return;
    }
    const Emitter::Token connection = emitter_.token();
    while (!queue_.empty() && lifecycle_.state() == State::ready && connection.current()) {
        Node node;
        Slot slot = pop_front(node);
        write_stanza(node, std::move(slot.handler), slot.since);
    }
}

void Outbox::on_ready() {
    if (config_.queue.flush_at_ready && !queue_.empty()) {
        purge();
    }
}

// Writes the queue as fast as the rate limit lets it, then waits on the timer for the rest.
void Outbox::drain() {
    const Emitter::Token connection = emitter_.token();
    while (!queue_.empty()) {
        if (lifecycle_.state() != State::ready || !connection.current()) {
            draining_ = false; // the rest waits for the next READY's purge
            return;
        }
        const auto wait = bucket_.wait(slots_.front().bytes, Clock::now());
        if (wait.count() > 0) {
            arm_rate_timer(wait);
            return;
        }
        bucket_.take(slots_.front().bytes);
        Node node;
        Slot slot = pop_front(node);
        write_stanza(node, std::move(slot.handler), slot.since);
    }
    draining_ = false;
}

void Outbox::arm_rate_timer(std::chrono::milliseconds wait) {
    rate_timer_->start(wait, [this] {
        graveyard_.guarded("send rate limit", [this] {
            if (draining_) {
                drain();
            }
        });
    });
}

std::string Outbox::return_to_sender(Node node, PendingRequest request,
                                     std::chrono::milliseconds timeout) {
    // The id goes on the stanza an envelope carries; the node is ours (moved in).
    std::string id = tracker_.track(envelope_.stanza_of(node), std::move(request), timeout);
    emitter_.emit(ev::RTS_START, nullptr, &node);
    output(std::move(node));
    return id;
}

std::string Outbox::request(Node node, Handler on_reply) {
    PendingRequest request;
    request.callback = std::move(on_reply);
    request.internal = true;
    std::string id = tracker_.track(node, std::move(request));
    if (emitter_.emit(ev::RTS_START, nullptr, &node)) {
        write(node);
    }
    return id;
}

} // namespace pcj::detail
