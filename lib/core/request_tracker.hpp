// RequestTracker: the requests that await a reply (return_to_sender, and the protocol modules'
// internal requests), their deadlines, and what happens to them when the connection ends.
//
// Replies come back here first (InboundRouter asks take_reply() before anything else sees a
// stanza), with the stanza as received, so its sender is at hand: the place to accept a reply
// only from the address that was asked. Stanzas leave through the Outbox, which tells the tracker
// when a tracked one was written (on_written): the place for acknowledgements.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "emitter.hpp"
#include "graveyard.hpp"
#include "pending.hpp"
#include "timer.hpp"

struct uv_loop_s;

namespace pcj::detail {

class RequestTracker {
public:
    // `default_timeout`: Config::rts_timeout, for a request made without its own.
    RequestTracker(uv_loop_s* loop, Emitter& emitter, Graveyard& graveyard,
                   std::chrono::milliseconds default_timeout);

    // Gives `stanza` an id no pending request has, records the request and returns the id.
    // Without a timeout the request waits for ever (a protocol module's: its connection's
    // negotiation timeout bounds it); a timeout of zero or less means the default one, and the
    // request then has a deadline if that is positive.
    std::string track(Node& stanza, PendingRequest request,
                      std::optional<std::chrono::milliseconds> timeout = std::nullopt);
    // The Outbox wrote `stanza`: a request with its id is now answerable on this connection.
    void on_written(const Node& stanza);
    // If `stanza` (as received, or the one its envelope carries) answers a request, hands it to
    // the requester (then, when `finish_event`, PCJ_RTS_FINISH with `received`) and returns true.
    // An application's request is answered only from the address it went to, as
    // reply_sender_matches(to, from, self) says (`self`: the bound JID, or the configured
    // domain); a stanza with its id from anyone else fires un::RTS_FOREIGN_REPLY and goes on as
    // an ordinary stanza (false), and the request keeps waiting.
    bool take_reply(const Node& received, const Node& stanza, bool finish_event,
                    std::string_view self);
    // The connection ended: every request that was written fails with `condition` (those only
    // queued wait for the next connection; internal ones are dropped with their module).
    void answer_lost(const char* condition);
    // A new connection: a new id sequence.
    void restart() { pending_.reseed(); }

    bool idle() const { return pending_.empty(); } // no request awaits a reply
    bool awaiting(std::string_view id) const { return pending_.contains(id); }
    std::map<std::string, std::string> snapshot() const { return pending_.snapshot(); }
    void release() { timer_.reset(); } // before the loop closes

private:
    void deliver(const std::string& id, PendingRequest& request, const Node* reply,
                 const Reason* failure);
    bool foreign_reply(const Node& received, const std::string& asked);
    static bool bounced(const Node& stanza, std::string_view from, std::string_view self);
    void arm_timer();
    void on_timer();

    Emitter& emitter_;
    Graveyard& graveyard_;
    std::chrono::milliseconds default_timeout_;
    PendingTable pending_;
    std::unique_ptr<Timer> timer_;
};

} // namespace pcj::detail
