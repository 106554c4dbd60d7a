// PubSub: the event registry (named subscribers, taps, RAII subscriptions) and Reason's text.
//
// Dispatch works by mark and sweep. Each topic keeps its subscribers in a vector in subscription
// order; a dispatch walks the indices that existed when it started, so a subscriber appended
// meanwhile is not reached. Cancelling only marks an entry (its handler pointer is reset) while
// any dispatch is running; entries are erased once the outermost dispatch returns, so indices
// stay valid for every nested dispatch. A handler is held by shared_ptr and the dispatch keeps
// its own reference during the call, so a handler that cancels itself is not destroyed while it
// runs.
//
// Exceptions: an exception thrown by a handler propagates out of publish() to the publisher;
// the handlers after it are not called for that event. The registry stays consistent (the
// dispatch depth is restored and cancelled entries are swept as usual).
#include "pcj/pubsub.hpp"

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pcj::detail {

namespace {

// Lets the topic map be searched with a string_view, so publish() never builds a std::string.
struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

using HandlerPtr = std::shared_ptr<Handler>;

} // namespace

struct PubSubState {
    struct Entry {
        std::uint64_t id;
        HandlerPtr handler; // null once cancelled; the entry is swept later
    };
    struct Topic {
        std::vector<Entry> entries;
        std::size_t live = 0;  // entries whose handler is still set
        std::string_view name; // the map key (stable); empty for the taps
    };

    std::unordered_map<std::string, Topic, NameHash, std::equal_to<>> topics;
    Topic taps;
    // Where each live subscription sits; Topic addresses are stable in an unordered_map.
    std::unordered_map<std::uint64_t, Topic*> owner;
    std::uint64_t next_id = 1;
    std::uint64_t revision = 0; // bumped by every subscribe and cancel
    unsigned depth = 0;         // nested dispatches in progress
    bool dirty = false;         // some entry was cancelled during a dispatch
    bool closed = false;        // the PubSub is gone; nothing more is delivered

    std::uint64_t add(Topic& topic, Handler handler) {
        const std::uint64_t id = next_id++;
        ++revision;
        topic.entries.push_back(Entry{id, std::make_shared<Handler>(std::move(handler))});
        ++topic.live;
        owner.emplace(id, &topic);
        return id;
    }

    bool is_live(std::uint64_t id) const { return !closed && owner.contains(id); }

    // Returns the handler so that the caller destroys it after the registry is consistent:
    // a handler's destructor may itself cancel other subscriptions.
    HandlerPtr cancel(std::uint64_t id) {
        auto it = owner.find(id);
        if (it == owner.end())
            return nullptr;
        Topic& topic = *it->second;
        owner.erase(it);
        ++revision;
        HandlerPtr doomed;
        for (auto e = topic.entries.begin(); e != topic.entries.end(); ++e) {
            if (e->id != id)
                continue;
            doomed = std::move(e->handler);
            --topic.live;
            if (depth == 0)
                topic.entries.erase(e);
            else
                dirty = true;
            break;
        }
        if (depth == 0)
            drop_if_empty(topic);
        return doomed;
    }

    void drop_if_empty(Topic& topic) {
        if (&topic == &taps || !topic.entries.empty())
            return;
        if (auto it = topics.find(topic.name); it != topics.end())
            topics.erase(it);
    }

    // Erases the entries cancelled during dispatch; only ever called at depth 0.
    void sweep() noexcept {
        dirty = false;
        auto dead = [](const Entry& e) {
            return e.handler == nullptr;
        };
        std::erase_if(taps.entries, dead);
        for (auto& [name, topic] : topics)
            std::erase_if(topic.entries, dead);
        std::erase_if(topics, [](const auto& kv) { return kv.second.entries.empty(); });
    }

    // Calls the first `count` entries of `topic` that are still live. Re-reads the vector on
    // every step because a handler may append to it (reallocating it).
    void deliver(Topic& topic, std::size_t count, const Event& event) {
        for (std::size_t i = 0; i < count && !closed; ++i) {
            HandlerPtr handler = topic.entries[i].handler;
            if (handler)
                (*handler)(event);
        }
    }

    // Named subscribers and taps together, in subscription order (ids grow with time), so a
    // tracing tap sees an event before whatever a later subscriber does in reaction to it.
    void deliver_merged(Topic& topic, std::size_t named, std::size_t tap_count,
                        const Event& event) {
        std::size_t i = 0, j = 0;
        while ((i < named || j < tap_count) && !closed) {
            const bool take_named =
                j >= tap_count || (i < named && topic.entries[i].id < taps.entries[j].id);
            HandlerPtr handler =
                take_named ? topic.entries[i++].handler : taps.entries[j++].handler;
            if (handler)
                (*handler)(event);
        }
    }
};

namespace {

// Keeps the depth count right even when a handler throws, and sweeps on the way out.
class DispatchScope {
public:
    explicit DispatchScope(PubSubState& state) : state_(state) { ++state_.depth; }
    ~DispatchScope() {
        if (--state_.depth == 0 && state_.dirty)
            state_.sweep();
    }
    DispatchScope(const DispatchScope&) = delete;
    DispatchScope& operator=(const DispatchScope&) = delete;

private:
    PubSubState& state_;
};

} // namespace

} // namespace pcj::detail

namespace pcj {

// -- Subscription ----------------------------------------------------------------------------

Subscription::Subscription(std::weak_ptr<detail::PubSubState> state, std::uint64_t id)
    : state_(std::move(state)), id_(id) {}

Subscription::Subscription(Subscription&& other) noexcept
    : state_(std::move(other.state_)), id_(std::exchange(other.id_, 0)) {
    other.state_.reset();
}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
    if (this != &other) {
        cancel();
        state_ = std::move(other.state_);
        other.state_.reset();
        id_ = std::exchange(other.id_, 0);
    }
    return *this;
}

Subscription::~Subscription() {
    cancel();
}

void Subscription::cancel() {
    auto state = state_.lock();
    const std::uint64_t id = std::exchange(id_, 0);
    state_.reset();
    if (!state || id == 0)
        return;
    // Destroyed here, after cancel() has left the registry consistent.
    detail::HandlerPtr doomed = state->cancel(id);
}

bool Subscription::active() const {
    auto state = state_.lock();
    return state && id_ != 0 && state->is_live(id_);
}

void Subscription::detach() {
    state_.reset();
    id_ = 0;
}

// -- PubSub ----------------------------------------------------------------------------------

PubSub::PubSub() : state_(std::make_shared<detail::PubSubState>()) {}

PubSub::~PubSub() {
    // A dispatch in progress keeps the state alive through its own reference; make sure it
    // delivers nothing more. Handlers are destroyed once the registry is already emptied.
    state_->closed = true;
    std::vector<detail::HandlerPtr> doomed;
    auto collect = [&](detail::PubSubState::Topic& topic) {
        for (auto& entry : topic.entries)
            if (entry.handler)
                doomed.push_back(std::move(entry.handler));
        topic.live = 0;
    };
    collect(state_->taps);
    for (auto& [name, topic] : state_->topics)
        collect(topic);
    state_->owner.clear();
    state_->dirty = true;
    if (state_->depth == 0)
        state_->sweep();
}

Subscription PubSub::subscribe(std::string_view event, Handler handler) {
    if (!handler)
        return {};
    auto it = state_->topics.find(event);
    if (it == state_->topics.end()) {
        it = state_->topics.emplace(std::string(event), detail::PubSubState::Topic{}).first;
        it->second.name = it->first;
    }
    return Subscription(state_, state_->add(it->second, std::move(handler)));
}

Subscription PubSub::subscribe_all(Handler handler) {
    if (!handler)
        return {};
    return Subscription(state_, state_->add(state_->taps, std::move(handler)));
}

void PubSub::publish(const Event& event) {
    detail::PubSubState& s = *state_;
    auto it = s.topics.find(event.name);
    detail::PubSubState::Topic* topic =
        it != s.topics.end() && it->second.live > 0 ? &it->second : nullptr;
    if (topic == nullptr && s.taps.live == 0)
        return; // the common case for most stanzas: nobody listens
    // A handler may destroy the PubSub (for example by destroying its component).
    std::shared_ptr<detail::PubSubState> keep = state_;
    const std::size_t named = topic ? topic->entries.size() : 0;
    const std::size_t taps = s.taps.entries.size();
    detail::DispatchScope scope(s);
    if (topic)
        s.deliver_merged(*topic, named, taps, event);
    else
        s.deliver(s.taps, taps, event);
}

std::size_t PubSub::subscriber_count(std::string_view event) const {
    auto it = state_->topics.find(event);
    return it == state_->topics.end() ? 0 : it->second.live;
}

std::uint64_t PubSub::revision() const {
    return state_->revision;
}

bool PubSub::wanted(std::string_view event) const {
    return state_->taps.live > 0 || subscriber_count(event) > 0;
}

// -- Reason ----------------------------------------------------------------------------------

// "connect: Connection refused (111)", "auth: Password wrong (not-authorized)",
// "auth: not-authorized" when there is no text.
std::string Reason::to_string() const {
    std::string out = op;
    const bool condition_as_text = text.empty() && !condition.empty();
    const std::string& body = condition_as_text ? condition : text;
    if (!body.empty())
        out += out.empty() ? body : ": " + body;
    std::string details;
    if (code != 0)
        details = std::to_string(code);
    if (!condition.empty() && !condition_as_text)
        details += (details.empty() ? "" : ", ") + condition;
    if (!details.empty())
        out += (out.empty() ? "(" : " (") + details + ")";
    return out.empty() ? "unknown failure" : out;
}

} // namespace pcj
