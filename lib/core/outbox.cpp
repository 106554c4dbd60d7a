// Outbox: the queue, the write of every stanza, and the requests whose stanza it writes.
#include "outbox.hpp"

#include "lifecycle.hpp"
#include "request_tracker.hpp"
#include "session.hpp"
#include "stream_management.hpp"
#include "stream_stack.hpp"

namespace pcj::detail {

Outbox::Outbox(const Config& config, Emitter& emitter, Envelope envelope, StreamStack& stack,
               RequestTracker& tracker, SessionKeeper& session, const Lifecycle& lifecycle)
    : config_(config), emitter_(emitter), envelope_(envelope), stack_(stack), tracker_(tracker),
      session_(session), lifecycle_(lifecycle), content_ns_(config.effective_xmlns()) {}

void Outbox::write(const Node& node) {
    write_buffer_.clear();
    node.append_to(write_buffer_, content_ns_);
    if (config_.debug) {
        emitter_.log(LogLevel::debug, "Sent: " + write_buffer_);
    }
    if (!tracker_.idle()) {
        tracker_.on_written(envelope_.stanza_of(node));
    }
    stack_.send(write_buffer_);
    // XEP-0198 hook (branch `sm`): kept until the server acknowledges it. MERGE: pass the
    // stanza's OutcomeHandler here instead of an empty one.
    if (sm_ != nullptr) {
        sm_->on_written(node, {});
    }
    session_.on_outbound(node);
    emitter_.emit(ev::NODESENT, nullptr, &node);
}

void Outbox::output(Node node) {
    if (lifecycle_.state() == State::ready) {
        write(node);
        return;
    }
    if (!emitter_.wanted(ev::NODEQUEUED)) {
        queue_.push_back(std::move(node));
        return;
    }
    // Subscribers get their own copy: a handler may purge the queue while it runs.
    Node copy = node;
    queue_.push_back(std::move(node));
    emitter_.emit(ev::NODEQUEUED, nullptr, &copy);
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
    const Emitter::Token connection = emitter_.token();
    while (!queue_.empty() && lifecycle_.state() == State::ready && connection.current()) {
        Node node = std::move(queue_.front());
        queue_.pop_front();
        write(node);
    }
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
