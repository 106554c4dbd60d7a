// PendingTable: ids that never collide with a pending one (PCJ corrupted its table on one:
// doc/origins.md, bug 4), and deadlines.
#include "pending.hpp"

#include "ids.hpp"

namespace pcj::detail {

void PendingTable::reseed() {
    prefix_ = "pcj" + random_hex(6) + "-";
    counter_ = 0;
}

std::string PendingTable::next_id() {
    if (prefix_.empty()) {
        reseed();
    }
    return prefix_ + std::to_string(++counter_);
}

std::string PendingTable::add(Node& node, PendingRequest request) {
    std::string id = node.attr("id");
    // A caller's own id is kept unless it is already waiting for a reply: then the node gets a
    // fresh one, and both requests keep their own replies.
    while (id.empty() || entries_.find(id) != entries_.end()) {
        id = next_id();
    }
    node.set_attr("id", id);
    if (request.deadline) {
        deadlines_.emplace(*request.deadline, id);
    }
    entries_.emplace(id, std::move(request));
    return id;
}

void PendingTable::forget_deadline(const std::string& id, const PendingRequest& request) {
    if (!request.deadline) {
        return;
    }
    auto [first, last] = deadlines_.equal_range(*request.deadline);
    for (auto it = first; it != last; ++it) {
        if (it->second == id) {
            deadlines_.erase(it);
            return;
        }
    }
}

std::optional<PendingRequest> PendingTable::take(std::string_view id) {
    auto it = entries_.find(id);
    if (it == entries_.end()) {
        return std::nullopt;
    }
    PendingRequest request = std::move(it->second);
    forget_deadline(it->first, request);
    entries_.erase(it);
    return request;
}

bool PendingTable::contains(std::string_view id) const {
    return entries_.find(id) != entries_.end();
}

PendingRequest* PendingTable::find(std::string_view id) {
    auto it = entries_.find(id);
    return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::pair<std::string, PendingRequest>>
PendingTable::take_expired(Clock::time_point now) {
    std::vector<std::pair<std::string, PendingRequest>> out;
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
        std::string id = deadlines_.begin()->second;
        deadlines_.erase(deadlines_.begin());
        auto it = entries_.find(id);
        if (it != entries_.end()) {
            out.emplace_back(id, std::move(it->second));
            entries_.erase(it);
        }
    }
    return out;
}

std::optional<PendingTable::Clock::time_point> PendingTable::next_deadline() const {
    if (deadlines_.empty()) {
        return std::nullopt;
    }
    return deadlines_.begin()->first;
}

std::vector<std::pair<std::string, PendingRequest>> PendingTable::take_sent() {
    std::vector<std::pair<std::string, PendingRequest>> out;
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->second.sent || it->second.internal) {
            forget_deadline(it->first, it->second);
            out.emplace_back(it->first, std::move(it->second));
            it = entries_.erase(it);
        } else {
            ++it;
        }
    }
    return out;
}

std::vector<std::pair<std::string, PendingRequest>> PendingTable::take_all() {
    std::vector<std::pair<std::string, PendingRequest>> out;
    out.reserve(entries_.size());
    for (auto& [id, request] : entries_) {
        out.emplace_back(id, std::move(request));
    }
    entries_.clear();
    deadlines_.clear();
    return out;
}

std::map<std::string, std::string> PendingTable::snapshot() const {
    std::map<std::string, std::string> out;
    for (const auto& [id, request] : entries_) {
        out.emplace(id, request.event);
    }
    return out;
}

} // namespace pcj::detail
