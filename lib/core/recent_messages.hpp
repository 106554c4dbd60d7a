// RecentMessages: the `from` and `id` of the last N messages received, so that a repeat is
// recognised (Config::duplicate_window). A sender whose server died before acknowledging a
// message sends it again, id included (stream management's at-least-once, doc/unattended.md);
// a receiver remembering what it saw turns that into once.
#pragma once
#include <cstddef>
#include <string>
#include <unordered_set>

#include "lazy_deque.hpp"
#include "pcj/node.hpp"

namespace pcj::detail {

class RecentMessages {
public:
    explicit RecentMessages(std::size_t window) : window_(window) {}

    // True when `stanza` is a <message/> with an id whose `from` and `id` are among the last
    // `window` remembered; otherwise it is remembered (the oldest forgotten) and false.
    // Messages without an id are never taken for repeats. Always false when the window is 0.
    bool repeat(const Node& stanza) {
        if (window_ == 0 || stanza.local_name() != "message") {
            return false;
        }
        const std::string id = stanza.attr("id");
        if (id.empty()) {
            return false;
        }
        std::string key = stanza.attr("from");
        key += '\0';
        key += id;
        if (seen_.count(key) != 0) {
            return true;
        }
        order_.push_back(key);
        seen_.insert(std::move(key));
        if (order_.size() > window_) {
            seen_.erase(order_.front());
            order_.pop_front();
        }
        return false;
    }

    std::size_t remembered() const { return order_.size(); }

private:
    std::size_t window_;
    LazyDeque<std::string> order_; // oldest first; no memory while the window is unused
    std::unordered_set<std::string> seen_;
};

} // namespace pcj::detail
