// EventQueue: a mutex and a condition variable around a bounded deque; the handlers that fill it
// run on the loop thread and share its state, so either side may go first.
#include "pcj/event_queue.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "pcj/component.hpp"

namespace pcj {

namespace detail {

struct EventQueueState {
    explicit EventQueueState(std::size_t cap) : capacity(cap) {}

    const std::size_t capacity;
    mutable std::mutex mutex;
    std::condition_variable ready;
    std::deque<QueuedEvent> records;
    std::uint64_t dropped = 0;
    bool closed = false;

    // Loop thread. Counts a drop without copying anything when the queue is full.
    void offer(const Component& component, const Event& e) {
        {
            std::lock_guard lock(mutex);
            if (closed) {
                return;
            }
            if (records.size() >= capacity) {
                ++dropped;
                return;
            }
        }
        QueuedEvent record = copy(component, e); // outside the lock: poppers need not wait
        {
            std::lock_guard lock(mutex);
            if (closed) {
                return;
            }
            if (records.size() >= capacity) { // a second producer filled it meanwhile
                ++dropped;
                return;
            }
            records.push_back(std::move(record));
        }
        ready.notify_one();
    }

    static QueuedEvent copy(const Component& component, const Event& e) {
        QueuedEvent r;
        r.name = std::string(e.name);
        r.component_id = component.id();
        r.connection_id = component.connection_id();
        if (e.payload != nullptr) {
            r.payload = *e.payload;
        }
        if (e.node != nullptr) {
            r.node = *e.node;
        }
        if (e.reason != nullptr) {
            r.reason = *e.reason;
        }
        r.xpath = std::string(e.xpath);
        r.matches.assign(e.matches.begin(), e.matches.end());
        return r;
    }

    // Called with the lock held and a record present.
    QueuedEvent take() {
        QueuedEvent r = std::move(records.front());
        records.pop_front();
        return r;
    }
};

// Whether an attachment's handlers still deliver: switched off when the attachment is cancelled
// from a thread that may not touch the PubSub.
struct QueueLink {
    std::atomic<bool> live{true};
};

} // namespace detail

// -- QueueAttachment
// -------------------------------------------------------------------------------

QueueAttachment& QueueAttachment::operator=(QueueAttachment&& other) noexcept {
    if (this != &other) {
        cancel();
        subscriptions_ = std::move(other.subscriptions_);
        other.subscriptions_.clear();
        link_ = std::move(other.link_);
        loop_thread_ = other.loop_thread_;
    }
    return *this;
}

QueueAttachment::~QueueAttachment() {
    cancel();
}

void QueueAttachment::cancel() {
    if (link_) {
        link_->live.store(false, std::memory_order_release);
        link_.reset();
    }
    if (std::this_thread::get_id() == loop_thread_) {
        subscriptions_.clear(); // each Subscription unsubscribes from the PubSub
        return;
    }
    // Not the loop thread: the PubSub is not ours to touch. The handlers stay, switched off.
    for (auto& s : subscriptions_) {
        s.detach();
    }
    subscriptions_.clear();
}

bool QueueAttachment::active() const {
    return link_ != nullptr && link_->live.load(std::memory_order_acquire);
}

// -- EventQueue
// ------------------------------------------------------------------------------------

EventQueue::EventQueue(std::size_t capacity)
    : state_(std::make_shared<detail::EventQueueState>(capacity == 0 ? 1 : capacity)) {}

EventQueue::~EventQueue() {
    close();
}

QueueAttachment EventQueue::attach(Component& component, std::span<const std::string_view> events) {
    QueueAttachment a;
    a.link_ = std::make_shared<detail::QueueLink>();
    a.loop_thread_ = std::this_thread::get_id();
    a.subscriptions_.reserve(events.size());
    for (std::string_view name : events) {
        a.subscriptions_.push_back(
            component.subscribe(name, [state = state_, link = a.link_, &component](const Event& e) {
                if (link->live.load(std::memory_order_acquire)) {
                    state->offer(component, e);
                }
            }));
    }
    return a;
}

QueueAttachment EventQueue::attach(Component& component,
                                   std::initializer_list<std::string_view> events) {
    return attach(component, std::span<const std::string_view>(events.begin(), events.size()));
}

QueueAttachment EventQueue::attach_all(Component& component) {
    QueueAttachment a;
    a.link_ = std::make_shared<detail::QueueLink>();
    a.loop_thread_ = std::this_thread::get_id();
    a.subscriptions_.push_back(
        component.subscribe_all([state = state_, link = a.link_, &component](const Event& e) {
            if (link->live.load(std::memory_order_acquire)) {
                state->offer(component, e);
            }
        }));
    return a;
}

std::optional<QueuedEvent> EventQueue::pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(state_->mutex);
    const bool any = state_->ready.wait_for(
        lock, timeout, [this] { return !state_->records.empty() || state_->closed; });
    if (!any || state_->records.empty()) {
        return std::nullopt;
    }
    return state_->take();
}

std::optional<QueuedEvent> EventQueue::pop() {
    std::unique_lock lock(state_->mutex);
    state_->ready.wait(lock, [this] { return !state_->records.empty() || state_->closed; });
    if (state_->records.empty()) {
        return std::nullopt;
    }
    return state_->take();
}

std::optional<QueuedEvent> EventQueue::try_pop() {
    std::lock_guard lock(state_->mutex);
    if (state_->records.empty()) {
        return std::nullopt;
    }
    return state_->take();
}

void EventQueue::close() {
    {
        std::lock_guard lock(state_->mutex);
        state_->closed = true;
    }
    state_->ready.notify_all();
}

bool EventQueue::closed() const {
    std::lock_guard lock(state_->mutex);
    return state_->closed;
}

std::size_t EventQueue::size() const {
    std::lock_guard lock(state_->mutex);
    return state_->records.size();
}

std::size_t EventQueue::capacity() const {
    return state_->capacity;
}

std::uint64_t EventQueue::dropped() const {
    std::lock_guard lock(state_->mutex);
    return state_->dropped;
}

} // namespace pcj
