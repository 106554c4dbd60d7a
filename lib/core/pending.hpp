// PendingTable: return_to_sender's outstanding requests, keyed by stanza id, with deadlines.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pcj/node.hpp"
#include "pcj/pubsub.hpp"

namespace pcj::detail {

// One outstanding request. The reply goes to `event` on the PubSub, or to `callback`.
struct PendingRequest {
    std::string event;
    Handler callback;
    bool internal = false; // made by a protocol module while negotiating
    bool sent = false;     // written on the current connection (not just queued)
    std::string to;        // the address asked: only it may answer (reply_sender_matches)
    std::optional<std::chrono::steady_clock::time_point> deadline;
};

class PendingTable {
public:
    using Clock = std::chrono::steady_clock;

    // Makes sure the node carries an id that is not pending (keeps the node's own id when it is
    // free, assigns a fresh one otherwise), records the request and returns the id.
    std::string add(Node& node, PendingRequest request);
    // Removes and returns the request with this id.
    std::optional<PendingRequest> take(std::string_view id);
    bool contains(std::string_view id) const;
    PendingRequest* find(std::string_view id);
    bool empty() const { return entries_.empty(); }
    std::size_t size() const { return entries_.size(); }

    // Removes and returns every request whose deadline is at or before now (earliest first).
    std::vector<std::pair<std::string, PendingRequest>> take_expired(Clock::time_point now);
    // The earliest deadline, if any request has one.
    std::optional<Clock::time_point> next_deadline() const;
    // Removes and returns the requests that were sent (their replies can no longer come).
    std::vector<std::pair<std::string, PendingRequest>> take_sent();
    // Removes and returns every request.
    std::vector<std::pair<std::string, PendingRequest>> take_all();

    std::map<std::string, std::string> snapshot() const; // id → event

    // Starts a new id sequence (a new random prefix); used at every connect.
    void reseed();
    std::string next_id();

private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, PendingRequest, Hash, std::equal_to<>> entries_;
    std::multimap<Clock::time_point, std::string> deadlines_;
    std::string prefix_;
    std::uint64_t counter_ = 0;
    void forget_deadline(const std::string& id, const PendingRequest& request);
};

} // namespace pcj::detail
