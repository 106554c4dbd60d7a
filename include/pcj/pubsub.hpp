/// @file
/// PubSub: named events, subscribers in subscription order, RAII unsubscription, a tap for all.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "pcj/events.hpp"
#include "pcj/export.hpp"

namespace pcj {

/// A subscriber: called with each event it subscribed to, on the loop's thread.
using Handler = std::function<void(const Event&)>;

namespace detail {
struct PubSubState;
}

/// Keeps one subscription alive; destroying it (or calling cancel()) unsubscribes. Safe to
/// destroy after the PubSub itself is gone, and safe to cancel from inside any handler.
class PCJ_EXPORT Subscription {
public:
    /// An inactive subscription.
    Subscription() = default;
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    /// Takes over `other`'s subscription; assigning cancels the current one first.
    ///@{
    Subscription(Subscription&& other) noexcept;
    Subscription& operator=(Subscription&& other) noexcept;
    ///@}
    ~Subscription();

    /// Unsubscribes now; the handler is not called again.
    void cancel();
    /// True while subscribed (not cancelled, not detached, the PubSub still there).
    bool active() const;
    /// Lets the subscription live as long as the PubSub, with no handle to cancel it.
    void detach();

private:
    friend class PubSub;
    Subscription(std::weak_ptr<detail::PubSubState> state, std::uint64_t id);
    std::weak_ptr<detail::PubSubState> state_;
    std::uint64_t id_ = 0;
};

/// The event registry. Rules:
/// - subscribing to an event that was never published is allowed;
/// - publishing an event nobody subscribed to is a no-op;
/// - subscribers are called in the order they subscribed, taps (subscribe_all) included: a tap
///   subscribed first sees each event before the handlers that react to it;
/// - a handler may subscribe, cancel (itself or others) or publish; a subscriber added during a
///   dispatch does not receive that dispatch, one cancelled during it is not called afterwards;
/// - an exception thrown by a handler propagates out of publish(); the handlers after it are not
///   called for that event, and the registry stays consistent;
/// - subscribing an empty Handler gives an inactive Subscription.
/// Single-threaded: use it from the loop's thread only.
class PCJ_EXPORT PubSub {
public:
    PubSub();
    ~PubSub();
    PubSub(const PubSub&) = delete;
    PubSub& operator=(const PubSub&) = delete;

    /// `handler` gets every `event` published until the Subscription is cancelled or destroyed.
    [[nodiscard]] Subscription subscribe(std::string_view event, Handler handler);
    /// `handler` gets every event published (a tap).
    [[nodiscard]] Subscription subscribe_all(Handler handler);
    /// Calls the subscribers of event.name and the taps, in subscription order (see the rules).
    void publish(const Event& event);
    /// Number of live subscribers of one event (taps not counted).
    std::size_t subscriber_count(std::string_view event) const;
    /// True when someone (a named subscriber or a tap) would receive this event.
    bool wanted(std::string_view event) const;
    /// Changes whenever a subscription is added or cancelled: lets a publisher cache wanted()
    /// for events it would otherwise look up for every stanza.
    std::uint64_t revision() const;

private:
    std::shared_ptr<detail::PubSubState> state_;
};

} // namespace pcj
