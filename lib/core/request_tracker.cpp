// RequestTracker: pending replies, their deadlines, and the answers to lost requests.
#include "request_tracker.hpp"

#include "jid.hpp"

namespace pcj::detail {

namespace {
constexpr std::string_view rts_event_name = "return_to_sender";
} // namespace

RequestTracker::RequestTracker(uv_loop_s* loop, Emitter& emitter, Graveyard& graveyard,
                               std::chrono::milliseconds default_timeout)
    : emitter_(emitter), graveyard_(graveyard), default_timeout_(default_timeout),
      timer_(std::make_unique<Timer>(loop)) {
    pending_.reseed();
}

std::string RequestTracker::track(Node& stanza, PendingRequest request,
                                  std::optional<std::chrono::milliseconds> timeout) {
    if (timeout) {
        const auto wait = timeout->count() > 0 ? *timeout : default_timeout_;
        if (wait.count() > 0) {
            request.deadline = PendingTable::Clock::now() + wait;
        }
    }
    request.to = stanza.attr("to");
    const bool has_deadline = request.deadline.has_value();
    std::string id = pending_.add(stanza, std::move(request));
    if (has_deadline) {
        arm_timer();
    }
    return id;
}

void RequestTracker::on_written(const Node& stanza) {
    if (pending_.empty()) {
        return;
    }
    if (const std::string* id = stanza.find_attr("id")) {
        if (PendingRequest* request = pending_.find(*id)) {
            request->sent = true;
        }
    }
}

bool RequestTracker::take_reply(const Node& received, const Node& stanza, bool finish_event,
                                std::string_view self) {
    if (pending_.empty()) {
        return false;
    }
    const std::string* id = stanza.find_attr("id");
    if (id == nullptr) {
        return false;
    }
    // A protocol module's own requests (bind, session, …) are answered while the address is
    // still being settled: the id is enough for them.
    if (const PendingRequest* asked = pending_.find(*id); asked != nullptr && !asked->internal) {
        const std::string* from = stanza.find_attr("from");
        const std::string_view sender = from != nullptr ? *from : std::string_view();
        if (!reply_sender_matches(asked->to, sender, self) && !bounced(stanza, sender, self)) {
            return foreign_reply(received, asked->to);
        }
    }
    auto request = pending_.take(*id);
    if (!request) {
        return false;
    }
    if (request->deadline) {
        arm_timer();
    }
    const Emitter::Token connection = emitter_.token();
    const bool internal = request->internal;
    deliver(*id, *request, &received, nullptr);
    if (finish_event && !internal && connection.current()) {
        emitter_.emit(ev::RTS_FINISH, nullptr, &received);
    }
    return true;
}

// A router that cannot deliver a request returns it as an error without swapping the
// addresses (the jabberd2 router does): 'from' is then our own address, which no one but the
// server can put on a stanza to us.
bool RequestTracker::bounced(const Node& stanza, std::string_view from, std::string_view self) {
    return !from.empty() && stanza.attr("type") == "error" &&
           (same_jid(from, self) || same_jid(from, bare_of(self)));
}

// Not the reply: the event, then the stanza goes its ordinary way (unless a handler replaced
// the connection, which ends the stanza's way too).
bool RequestTracker::foreign_reply(const Node& received, const std::string& asked) {
    const Emitter::Token connection = emitter_.token();
    if (emitter_.wanted(un::RTS_FOREIGN_REPLY)) {
        emitter_.emit(un::RTS_FOREIGN_REPLY, Payload(Text{asked}), &received);
    } else {
        emitter_.log(LogLevel::info, "a stanza with a pending request's id came from another "
                                     "address than '" +
                                         asked + "': not taken as the reply");
    }
    return !connection.current();
}

// To the request's callback, or as its event on the PubSub.
void RequestTracker::deliver(const std::string& id, PendingRequest& request, const Node* reply,
                             const Reason* failure) {
    (void)id;
    Event e;
    e.name = request.event.empty() ? rts_event_name : std::string_view(request.event);
    e.node = reply;
    e.reason = failure;
    if (request.callback) {
        request.callback(e);
    } else {
        emitter_.events().publish(e);
    }
}

void RequestTracker::answer_lost(const char* condition) {
    if (pending_.empty()) {
        return;
    }
    auto lost = pending_.take_sent();
    arm_timer();
    for (auto& [id, request] : lost) {
        if (request.internal) {
            continue; // the protocol module that asked is gone with its connection
        }
        Reason why{"return_to_sender", 0, condition,
                   "the connection ended before the reply to '" + id + "' arrived"};
        deliver(id, request, nullptr, &why);
    }
}

void RequestTracker::arm_timer() {
    const auto next = pending_.next_deadline();
    if (!next) {
        timer_->stop();
        return;
    }
    const auto now = PendingTable::Clock::now();
    const auto wait = *next <= now ? std::chrono::milliseconds(0)
                                   : std::chrono::ceil<std::chrono::milliseconds>(*next - now);
    timer_->start(wait, [this] { graveyard_.guarded("rts timeout", [this] { on_timer(); }); });
}

void RequestTracker::on_timer() {
    auto expired = pending_.take_expired(PendingTable::Clock::now());
    for (auto& [id, request] : expired) {
        Reason why{"return_to_sender", 0, "timeout",
                   "no reply to '" + id + "' within the request's timeout"};
        deliver(id, request, nullptr, &why);
    }
    arm_timer();
}

} // namespace pcj::detail
