// Outbox: every stanza the component writes leaves through here — the queue that holds the
// application's stanzas until READY (purge_queue() flushes it), the serialisation, PCJ_NODESENT,
// and the requests (return_to_sender, the protocol modules' internal requests) whose stanza it
// writes.
//
// The one place a stanza passes between "the application handed it over" and "its bytes went to
// the StreamStack": the queue's limits, the per-stanza outcomes (pcj/outcome.hpp), the send
// rate limit (a TokenBucket and a timer) live here; stream management takes a written stanza's
// outcome over in write_stanza() and gives unacknowledged ones back through requeue_front().
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "emitter.hpp"
#include "envelope.hpp"
#include "graveyard.hpp"
#include "lazy_deque.hpp"
#include "pcj/config.hpp"
#include "pcj/node.hpp"
#include "pcj/outcome.hpp"
#include "pending.hpp"
#include "timer.hpp"
#include "token_bucket.hpp"

struct uv_loop_s;

namespace pcj::detail {

class Lifecycle;
class StreamManagement;
class RequestTracker;
class SessionKeeper;
class StreamStack;

// Told what became of one stanza (Component::output(node, callback)); may be empty.
using OutcomeHandler = OutcomeCallback;

class Outbox {
public:
    Outbox(uv_loop_s* loop, const Config& config, Emitter& emitter, Graveyard& graveyard,
           Envelope envelope, StreamStack& stack, RequestTracker& tracker, SessionKeeper& session,
           const Lifecycle& lifecycle);

    // Component::output(): written now when READY (and the rate limit allows), else queued
    // (PCJ_NODEQUEUED) within the queue's limits.
    void output(Node node, OutcomeHandler handler = {});
    // Component::purge_queue(): writes the queue while READY (at the rate limit's pace).
    void purge();
    // The connection is READY: flushes the queue when Config::queue.flush_at_ready.
    void on_ready();
    // Writes now, whatever the state (negotiation traffic too), and fires PCJ_NODESENT. With
    // stream management on, the stanza is kept until the server acknowledges it. (A stanza
    // with an outcome handler goes through write_stanza().)
    void write(const Node& node);
    // Puts stanzas written but not acknowledged back at the head of the queue, in their order,
    // with their outcome handlers (stream management, when a stream could not be resumed).
    // The queue's limits do not refuse them: they were accepted once.
    void requeue_front(std::vector<std::pair<Node, OutcomeHandler>> stanzas);
    // Component::return_to_sender(): tracked, PCJ_RTS_START, then output().
    std::string return_to_sender(Node node, PendingRequest request,
                                 std::chrono::milliseconds timeout);
    // ProtocolHost::request(): tracked as internal, PCJ_RTS_START, then written now.
    std::string request(Node node, Handler on_reply);

    const std::deque<Node>& queue() const { return queue_.view(); }
    // An idle connection's quiet timer: the empty queue and the serialisation buffer (as
    // large as the largest stanza written) give their memory back.
    void trim() {
        queue_.release_if_empty();
        slots_.release_if_empty();
        std::string().swap(write_buffer_);
    }
    // XEP-0198: every stanza written is shown to stream management.
    void set_stream_management(StreamManagement* sm) { sm_ = sm; }
    std::size_t queued_bytes() const { return queued_bytes_; }
    void release() { rate_timer_.reset(); } // before the loop closes

private:
    using Clock = std::chrono::steady_clock;
    // What the queue keeps beside each node (queue_ stays a deque of nodes: Component::queue()).
    struct Slot {
        OutcomeHandler handler;
        std::size_t bytes = 0;
        Clock::time_point since;
    };

    std::size_t size_of(const Node& node);
    bool make_room(const Node& node, std::size_t bytes, OutcomeHandler& handler);
    void enqueue(Node node, OutcomeHandler handler, std::size_t bytes);
    // `since`: when a queued stanza was queued (its outcome's wait); nullopt: written at once.
    void write_stanza(const Node& node, OutcomeHandler handler,
                      std::optional<Clock::time_point> since);
    // The two halves of a write around stream management's hook: the bytes to the stack, then
    // the session keeper and PCJ_NODESENT.
    void send_bytes(const Node& node);
    void after_send(const Node& node);
    Slot pop_front(Node& node);
    void drain();
    void arm_rate_timer(std::chrono::milliseconds wait);

    const Config& config_;
    Emitter& emitter_;
    Graveyard& graveyard_;
    Envelope envelope_;
    StreamStack& stack_;
    RequestTracker& tracker_;
    SessionKeeper& session_;
    const Lifecycle& lifecycle_;
    std::string content_ns_; // the namespace stanzas are written in
    LazyDeque<Node> queue_;
    LazyDeque<Slot> slots_; // one per queue_ entry
    std::size_t queued_bytes_ = 0;
    bool sizes_needed_;     // a byte limit or a byte rate is set
    TokenBucket bucket_;    // no limit unless Config::rate_limit says so
    bool draining_ = false; // purge_queue() (or a throttled output) is writing the queue
    std::unique_ptr<Timer> rate_timer_;
    std::string write_buffer_;       // reused for serialisation
    StreamManagement* sm_ = nullptr; // XEP-0198
};

} // namespace pcj::detail
