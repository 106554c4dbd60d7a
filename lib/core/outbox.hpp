// Outbox: every stanza the component writes leaves through here — the queue that holds the
// application's stanzas until READY (purge_queue() flushes it), the serialisation, PCJ_NODESENT,
// and the requests (return_to_sender, the protocol modules' internal requests) whose stanza it
// writes.
//
// The one place a stanza passes between "the application handed it over" and "its bytes went to
// the StreamStack": where a bounded queue, per-stanza outcomes, a send rate and stream management
// acknowledgements belong.
#pragma once

#include <chrono>
#include <deque>
#include <string>

#include "emitter.hpp"
#include "envelope.hpp"
#include "pcj/config.hpp"
#include "pcj/node.hpp"
#include "pending.hpp"

namespace pcj::detail {

class Lifecycle;
class StreamManagement;
class RequestTracker;
class SessionKeeper;
class StreamStack;

class Outbox {
public:
    Outbox(const Config& config, Emitter& emitter, Envelope envelope, StreamStack& stack,
           RequestTracker& tracker, SessionKeeper& session, const Lifecycle& lifecycle);

    // Component::output(): written now when READY, else queued (PCJ_NODEQUEUED).
    void output(Node node);
    // Component::purge_queue(): writes the queue while READY.
    void purge();
    // Writes now, whatever the state (negotiation traffic too), and fires PCJ_NODESENT.
    void write(const Node& node);
    // Component::return_to_sender(): tracked, PCJ_RTS_START, then output().
    std::string return_to_sender(Node node, PendingRequest request,
                                 std::chrono::milliseconds timeout);
    // ProtocolHost::request(): tracked as internal, PCJ_RTS_START, then written now.
    std::string request(Node node, Handler on_reply);

    const std::deque<Node>& queue() const { return queue_; }
    // XEP-0198 (branch `sm`): every stanza written is shown to stream management.
    void set_stream_management(StreamManagement* sm) { sm_ = sm; }

private:
    const Config& config_;
    Emitter& emitter_;
    Envelope envelope_;
    StreamStack& stack_;
    RequestTracker& tracker_;
    SessionKeeper& session_;
    const Lifecycle& lifecycle_;
    std::string content_ns_; // the namespace stanzas are written in
    std::deque<Node> queue_;
    std::string write_buffer_;       // reused for serialisation
    StreamManagement* sm_ = nullptr; // XEP-0198 (branch `sm`)
};

} // namespace pcj::detail
