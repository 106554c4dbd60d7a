// StreamManagement: XEP-0198's counting, acknowledgements, resumption and re-sending.
#include "stream_management.hpp"

#include <charconv>
#include <optional>

#include "pcj/error.hpp"
#include "pcj/events.hpp"
#include "stream_stack.hpp"

namespace pcj::detail {

namespace {

constexpr std::string_view ns_stanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";

// An attribute 'h' (xs:unsignedInt); nothing when it is absent or malformed.
std::optional<std::uint32_t> h_of(const Node& node) {
    const std::string h = node.attr("h");
    std::uint32_t value = 0;
    const auto [end, ec] = std::from_chars(h.data(), h.data() + h.size(), value);
    if (h.empty() || ec != std::errc() || end != h.data() + h.size()) {
        return std::nullopt;
    }
    return value;
}

// The defined condition a <failed/> carries, or "undefined-condition".
Reason failed_reason(const Node* failed) {
    Reason r{"resume", 0, "undefined-condition", "the server refused to resume the session"};
    if (failed == nullptr) {
        r.condition = "resumption-unavailable";
        r.text = "the server does not offer resumption on this connection";
        return r;
    }
    for (const Node* c : failed->elements()) {
        if (c->ns() == ns_stanzas && c->local_name() != "text") {
            r.condition = std::string(c->local_name());
        } else if (c->local_name() == "text") {
            r.text = c->text();
        }
    }
    return r;
}

} // namespace

StreamManagement::StreamManagement(uv_loop_s* loop, const Config& config, Emitter& emitter,
                                   StreamStack& stack)
    : loop_(loop), config_(config), emitter_(emitter), stack_(stack),
      content_ns_(config.effective_xmlns()), stream_(emitter.token()) {}

StreamManagement::~StreamManagement() = default;

void StreamManagement::wire(Writer write, Requeue requeue) {
    write_ = std::move(write);
    requeue_ = std::move(requeue);
}

void StreamManagement::release() {
    timer_.reset();
}

bool StreamManagement::is_stanza(const Node& node) const {
    if (!node.ns().empty() && node.ns() != content_ns_) {
        return false;
    }
    const auto local = node.local_name();
    return local == "message" || local == "presence" || local == "iq";
}

// -- the core's hooks -------------------------------------------------------------------------

void StreamManagement::on_written(const Node& node, std::string_view bytes) {
    store(node, bytes, false);
}

std::uint64_t StreamManagement::keep_pending(const Node& node, std::string_view bytes) {
    if (!store(node, bytes, true)) {
        return 0;
    }
    return front_seq_ + unacked_.size() - 1; // store() may have asked for an ack: none came yet
}

void StreamManagement::adopt(std::uint64_t seq, OutcomeHandler handler) {
    if (seq == 0 || !handler) {
        return;
    }
    if (seq >= front_seq_ && seq - front_seq_ < unacked_.size()) {
        Unacked& u = unacked_[static_cast<std::size_t>(seq - front_seq_)];
        u.handler = std::move(handler);
        u.pending = false;
        return;
    }
    for (auto it = settled_.begin(); it != settled_.end(); ++it) {
        if (it->seq != seq) {
            continue;
        }
        Settled found = std::move(*it);
        settled_.erase(it);
        if (found.holder) {
            *found.holder = std::move(handler); // back in the queue: its forwarder calls it
        } else if (found.outcome) {
            handler(*found.outcome);
        }
        return;
    }
}

bool StreamManagement::store(const Node& node, std::string_view bytes, bool pending) {
    if (!keeps(node)) {
        return false;
    }
    kept_.push(bytes);
    unacked_.push_back(Unacked{bytes.size(), {}, pending});
    // One request at a time: while one is unanswered, the count goes on and the next <r/> goes
    // when its <a/> comes (on_ack). A burst of writes then costs one <r/> and one <a/> per
    // round trip rather than one per ack_every stanzas, and the <a/> settles all of them.
    if (config_.stream_management.ack_every != 0 &&
        ++since_request_ >= config_.stream_management.ack_every && !awaiting_ack_) {
        request_ack();
        return true;
    }
    arm_timer();
    return true;
}

bool StreamManagement::settle(Unacked& done, std::uint64_t seq, const Outcome& outcome,
                              const Emitter::Token& connection) {
    if (done.handler) {
        done.handler(outcome);
        return connection.current();
    }
    if (done.pending) {
        settled_.push_back(Settled{seq, outcome, nullptr});
    }
    return true;
}

bool StreamManagement::on_inbound(const Node& node) {
    if (node.ns() == ns_sm) {
        const auto local = node.local_name();
        if (local == "r") {
            answer_request(); // always, whatever the state (XEP-0198 §4)
            return true;
        }
        if (local == "a") {
            if (active() || closing_) {
                on_ack(node);
            }
            return true;
        }
        return false; // <enabled/>, <resumed/>, <failed/>: the XMPP module's
    }
    if (active() && is_stanza(node)) {
        ++handled_; // unsigned: wraps at 2^32 as §4 requires
    }
    return false;
}

// -- acknowledgements -------------------------------------------------------------------------

void StreamManagement::on_ack(const Node& a) {
    const auto h = h_of(a);
    if (!h) {
        emitter_.log(LogLevel::warning, "stream management: an <a/> without a valid h; ignored");
        return;
    }
    awaiting_ack_ = false;
    if (!acknowledge(*h)) {
        return;
    }
    if (!emitter_.emit(sm::ACK, nullptr, &a)) {
        return;
    }
    // The stanzas written while the request was out: asked for now if they make a count.
    const unsigned every = config_.stream_management.ack_every;
    if (every != 0 && since_request_ >= every && active() && !unacked_.empty() && !closing_) {
        request_ack();
    }
}

bool StreamManagement::acknowledge(std::uint32_t h) {
    std::uint32_t count = newly_acknowledged(acked_, h);
    if (count > unacked_.size()) {
        emitter_.log(LogLevel::warning, "stream management: the server acknowledged " +
                                            std::to_string(count) + " stanza(s), but only " +
                                            std::to_string(unacked_.size()) + " were unacked");
        count = static_cast<std::uint32_t>(unacked_.size());
    }
    acked_ += count;
    const Emitter::Token connection = emitter_.token();
    for (; count > 0; --count) {
        Unacked done = std::move(unacked_.front());
        const std::uint64_t seq = front_seq_++;
        unacked_.pop_front();
        kept_.pop_front(done.size);
        if (!settle(done, seq, Outcome{Delivery::acked, {}, std::chrono::milliseconds(0)},
                    connection)) {
            return false;
        }
    }
    if (unacked_.empty() && timer_) {
        timer_->stop();
    } else {
        arm_timer();
    }
    return true;
}

void StreamManagement::request_ack() {
    since_request_ = 0;
    awaiting_ack_ = true;
    if (timer_) {
        timer_->stop();
    }
    send_raw("<r xmlns=\"urn:xmpp:sm:3\"/>");
}

void StreamManagement::answer_request() {
    send_raw("<a xmlns=\"urn:xmpp:sm:3\" h=\"" + std::to_string(handled_) + "\"/>");
}

void StreamManagement::arm_timer() {
    const auto after = config_.stream_management.ack_after;
    if (after.count() == 0 || unacked_.empty() || !active()) {
        return;
    }
    if (!timer_) {
        timer_ = std::make_unique<Timer>(loop_);
    } else if (timer_->active()) {
        return;
    }
    timer_->start(after, [this] {
        if (active() && !unacked_.empty()) {
            request_ack();
        }
    });
}

void StreamManagement::send_raw(const std::string& bytes) {
    if (config_.debug) {
        emitter_.log(LogLevel::debug, "Sent: " + bytes);
    }
    stack_.send(bytes);
}

std::optional<Node> StreamManagement::revive(std::string_view bytes, Unacked& u,
                                             std::uint64_t seq) {
    try {
        return Node::parse(bytes);
    } catch (const ParseError& e) {
        // Only a node whose serialisation is not XML (text with characters XML forbids) gets
        // here; the server refused the stream over it already.
        const Reason why{"stream-management", 0, "unreadable",
                         std::string("an unacknowledged stanza could not be read back: ") +
                             e.what()};
        emitter_.log(LogLevel::warning, why.text);
        const Outcome failed{Delivery::failed, why, std::chrono::milliseconds(0)};
        if (u.handler) {
            auto handler = std::move(u.handler);
            handler(failed);
        } else if (u.pending) {
            u.pending = false;
            settled_.push_back(Settled{seq, failed, nullptr});
        }
        return std::nullopt;
    }
}

// -- StreamManagementHost ---------------------------------------------------------------------

void StreamManagement::start_session() {
    active_ = true;
    stream_ = emitter_.token();
    since_request_ = 0;
    awaiting_ack_ = false;
}

void StreamManagement::on_shutdown() {
    if (!active()) {
        return; // a lost session: the next connection resumes it or queues its stanzas again
    }
    if (!unacked_.empty()) {
        request_ack();
    }
    closing_ = true;
}

void StreamManagement::on_closed() {
    if (!closing_) {
        return; // a lost link: the session, its count and its stanzas wait for the next one
    }
    closing_ = false;
    active_ = false;
    resume_id_.clear();
    handled_ = 0;
    acked_ = 0;
    if (timer_) {
        timer_->stop();
    }
    // Written before a clean close, which the server read in order (RFC 6120 §4.4), but never
    // acknowledged: not resent, so told `dropped`.
    drop_unacked("the stream was closed before the server acknowledged the stanza");
}

void StreamManagement::drop_unacked(const std::string& text) {
    const Reason why{"stream-management", 0, "unacknowledged", text};
    std::deque<Unacked> gone = unacked_.take();
    forget_kept();
    std::uint64_t seq = front_seq_;
    front_seq_ += gone.size();
    const Emitter::Token connection = emitter_.token();
    for (Unacked& u : gone) {
        // Every one is told, even if a handler replaces the connection: they are gone.
        settle(u, seq++, Outcome{Delivery::dropped, why, std::chrono::milliseconds(0)}, connection);
    }
}

void StreamManagement::enabled(const Node& enabled, const std::string& jid) {
    if (!unacked_.empty()) {
        resume_failed(nullptr); // a session left over that nobody resumed
    }
    const std::string resume = enabled.attr("resume");
    resume_id_ = (resume == "true" || resume == "1") ? enabled.attr("id") : std::string();
    jid_ = jid;
    handled_ = 0;
    acked_ = 0;
    start_session();
    emitter_.emit(sm::ENABLED, nullptr, &enabled);
}

std::string StreamManagement::resumed(const Node& resumed) {
    start_session();
    const Emitter::Token connection = emitter_.token();
    if (const auto h = h_of(resumed); h && !acknowledge(*h)) {
        return jid_;
    }
    if (!emitter_.emit(sm::RESUMED, nullptr, &resumed)) {
        return jid_;
    }
    // What the server never received, once more, in order; the hook does not keep them twice.
    // Nothing is kept or acknowledged while resending: kept_ stays as it is.
    resending_ = true;
    KeptBytes::Reader kept(kept_);
    for (std::size_t i = 0; i < unacked_.size() && connection.current(); ++i) {
        Unacked& u = unacked_[i];
        std::optional<Node> node = revive(kept.next(u.size), u, front_seq_ + i);
        if (node) {
            write_(*node);
        }
    }
    resending_ = false;
    if (connection.current() && !unacked_.empty()) {
        request_ack();
    }
    return jid_;
}

void StreamManagement::resume_failed(const Node* failed) {
    if (failed != nullptr) {
        if (const auto h = h_of(*failed); h && !acknowledge(*h)) {
            return;
        }
    }
    std::vector<std::pair<Node, OutcomeHandler>> back;
    back.reserve(unacked_.size());
    KeptBytes::Reader kept(kept_);
    std::uint64_t seq = front_seq_;
    for (auto& u : unacked_.get()) {
        if (std::optional<Node> node = revive(kept.next(u.size), u, seq)) {
            OutcomeHandler handler = std::move(u.handler);
            if (u.pending) {
                // Its handler is still being told `sent`: the queue gets a forwarder to the
                // holder that adopt() fills.
                auto holder = std::make_shared<OutcomeHandler>();
                settled_.push_back(Settled{seq, std::nullopt, holder});
                handler = [holder](const Outcome& o) {
                    if (*holder) {
                        (*holder)(o);
                    }
                };
            }
            back.emplace_back(std::move(*node), std::move(handler));
        }
        ++seq;
    }
    front_seq_ += unacked_.size();
    unacked_.clear();
    forget_kept();
    resume_id_.clear();
    active_ = false;
    handled_ = 0;
    acked_ = 0;
    if (timer_) {
        timer_->stop();
    }
    const std::size_t count = back.size();
    if (!back.empty()) {
        requeue_(std::move(back));
    }
    const Reason why = failed_reason(failed);
    emitter_.log(LogLevel::info, "stream management: the session is gone (" + why.condition +
                                     "); " + std::to_string(count) +
                                     " unacknowledged stanza(s) go back to the queue");
    emitter_.emit(sm::RESUME_FAILED, &why, failed);
}

} // namespace pcj::detail
