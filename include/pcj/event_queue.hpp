/// @file
/// EventQueue: copies of a component's events, queued on the loop thread and drained from any
/// other thread (as the Qore language's event queue is, doc/origins.md), with a bound and a count
/// of what was dropped.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "pcj/events.hpp"
#include "pcj/export.hpp"
#include "pcj/node.hpp"
#include "pcj/payload.hpp"
#include "pcj/pubsub.hpp"

namespace pcj {

class Component;

namespace detail {
struct EventQueueState;
struct QueueLink;
} // namespace detail

/// One event, owned: everything an Event points to, copied when it was published.
struct PCJ_EXPORT QueuedEvent {
    std::string name;                ///< the event's name
    std::uint64_t component_id = 0;  ///< Component::id()
    std::uint64_t connection_id = 0; ///< Component::connection_id() when the event fired
    Payload payload;                 ///< std::monostate when the event carries none
    std::optional<Node> node;        ///< Event::node, copied
    std::optional<Reason> reason;    ///< Event::reason, copied
    std::string xpath;               ///< filter events: the expression that matched
    std::vector<Node> matches;       ///< filter events: the nodes it selected
};

/// The subscriptions that feed a queue from one component. It belongs to the loop thread:
/// create it there (EventQueue::attach) and destroy or cancel() it there, before or with the
/// component. Destroyed on any other thread it cannot touch the component's (single-threaded)
/// PubSub: it then only switches its handlers off, and they stay registered, inert, until the
/// component itself goes.
class PCJ_EXPORT QueueAttachment {
public:
    /// An attachment to nothing (inactive).
    QueueAttachment() = default;
    /// Moves the subscriptions; `other` is left inactive. Assigning cancels the current ones.
    ///@{
    QueueAttachment(QueueAttachment&& other) noexcept = default;
    QueueAttachment& operator=(QueueAttachment&& other) noexcept;
    ///@}
    QueueAttachment(const QueueAttachment&) = delete;
    QueueAttachment& operator=(const QueueAttachment&) = delete;
    /// cancel().
    ~QueueAttachment();

    /// Unsubscribes (on the loop thread; see above for any other).
    void cancel();
    /// True until cancel(), destruction or a move away.
    bool active() const;

private:
    friend class EventQueue;
    std::vector<Subscription> subscriptions_;
    std::shared_ptr<detail::QueueLink> link_;
    std::thread::id loop_thread_;
};

/// A bounded, thread-safe FIFO of QueuedEvents.
///
/// Threads: attach() on the component's loop thread; pop(), try_pop(), close() and the counters
/// from any thread. The records live in state shared with the attachments' handlers, so the
/// queue may be destroyed on any thread, even while its component keeps publishing: records
/// published after that are discarded. Do not destroy it while another thread is inside pop().
///
/// Full: a record that finds the queue at capacity is dropped (the newest one: what is queued
/// stays, in order) and counted in dropped(). Closed: nothing more is accepted (nor counted);
/// pop() returns what is still queued, then nullopt at once.
class PCJ_EXPORT EventQueue {
public:
    /// An empty, open queue of at most `capacity` records (0 is taken as 1).
    explicit EventQueue(std::size_t capacity = 4096);
    /// close()s; see the class for the threads that may still hold records.
    ~EventQueue();
    EventQueue(const EventQueue&) = delete;
    EventQueue& operator=(const EventQueue&) = delete;

    // -- on the loop thread ----------------------------------------------------------------
    /// Queues every event in `events` that `component` publishes (e.g. net::all, sock::all, or
    /// a list of names). Only the names asked for are subscribed, so events nobody else wants
    /// still cost the component nothing.
    ///@{
    [[nodiscard]] QueueAttachment attach(Component& component,
                                         std::span<const std::string_view> events);
    [[nodiscard]] QueueAttachment attach(Component& component,
                                         std::initializer_list<std::string_view> events);
    ///@}
    /// Queues every event of the component (every payload is then built).
    [[nodiscard]] QueueAttachment attach_all(Component& component);

    // -- any thread --------------------------------------------------------------------------
    /// The oldest record; waits up to `timeout` for one. nullopt on timeout, or once the queue is
    /// closed and empty.
    std::optional<QueuedEvent> pop(std::chrono::milliseconds timeout);
    /// Waits until a record arrives or the queue is closed.
    std::optional<QueuedEvent> pop();
    /// The oldest record, or nullopt at once when there is none.
    std::optional<QueuedEvent> try_pop();
    /// Accepts nothing more and wakes every thread waiting in pop().
    void close();
    /// True once close() was called (also by the destructor).
    bool closed() const;

    /// The number of records waiting.
    std::size_t size() const;
    /// The most records the queue holds; what arrives beyond is dropped.
    std::size_t capacity() const;
    /// Records dropped because the queue was full, since it was created.
    std::uint64_t dropped() const;

private:
    std::shared_ptr<detail::EventQueueState> state_;
};

} // namespace pcj
