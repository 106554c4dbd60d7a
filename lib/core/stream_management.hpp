// StreamManagement: XEP-0198 for the XMPP client — the counts of both directions, the stanzas
// the server has not acknowledged yet, the ack requests, and what happens to those stanzas when
// a stream is resumed (re-sent in order, once) or cannot be (back to the head of the queue).
//
// It outlives connections (a protocol module lives for one): the XMPP module negotiates
// <enable/> and <resume/> and reports the answers through StreamManagementHost. The core feeds it
// at two places only:
//   Outbox::write         on_written(node, bytes) or keep_pending() and adopt(): every
//                         stanza written while enabled
//   InboundRouter         on_inbound(node): <r/> and <a/> are consumed here; stanzas counted
// Nothing counts until the server's <enabled/> or <resumed/> on the current stream, so other
// connection types, and servers without stream management, see no change.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "emitter.hpp"
#include "kept_bytes.hpp"
#include "lazy_deque.hpp"
#include "pcj/config.hpp"
#include "pcj/node.hpp"
#include "pcj/outcome.hpp"
#include "protocol.hpp"
#include "timer.hpp"

struct uv_loop_s;

namespace pcj::detail {

class StreamStack;

// A stanza's outcome callback, kept until the server acknowledges the stanza (as in outbox.hpp).
using OutcomeHandler = OutcomeCallback;

inline constexpr std::string_view ns_sm = "urn:xmpp:sm:3";

// How many stanzas an <a h/> settles after the previous one: both counts are modulo 2^32
// (XEP-0198 §5), so the unsigned difference is the answer across the wrap.
constexpr std::uint32_t newly_acknowledged(std::uint32_t previous, std::uint32_t h) {
    return h - previous;
}

class StreamManagement final : public StreamManagementHost {
public:
    // Writes a stanza as every stanza is written (Outbox::write).
    using Writer = std::function<void(const Node&)>;
    // Outbox::requeue_front: the stanzas back at the head of the
    // queue, in order, each with its outcome handler.
    using Requeue = std::function<void(std::vector<std::pair<Node, OutcomeHandler>>)>;

    StreamManagement(uv_loop_s* loop, const Config& config, Emitter& emitter, StreamStack& stack);
    ~StreamManagement();
    void wire(Writer write, Requeue requeue);
    // An idle connection's quiet timer: no stanza unacknowledged, no memory kept for them (nor
    // the request timer, made again at the next timed request).
    void trim() {
        unacked_.release_if_empty();
        if (unacked_.empty()) {
            kept_.release();
            if (timer_ && !timer_->active()) {
                timer_.reset();
            }
        }
    }

    // -- the core's two hooks --------------------------------------------------------------------
    // Whether a stanza written now would be kept until acknowledged (enabled, not resending,
    // a stanza of the content namespace).
    bool keeps(const Node& node) const { return !resending_ && active() && is_stanza(node); }
    // A stanza was written as `bytes` (Outbox::write): kept until acknowledged, when
    // keeps(node). Its serialised form is what is kept, appended to blocks that the
    // unacknowledged stanzas share (kept_bytes.hpp: no allocation per stanza), and parsed again
    // only when it must be re-sent or queued again.
    void on_written(const Node& node, std::string_view bytes);
    // The same for a stanza whose handler is still to be told `sent` by the Outbox (after
    // PCJ_NODESENT, which may write more): kept without it, the handler handed over by adopt()
    // once told. Returns the stanza's number, for adopt(); 0 when it is not kept.
    std::uint64_t keep_pending(const Node& node, std::string_view bytes);
    // The handler of the stanza numbered `seq` (keep_pending), told `sent`: kept with its
    // stanza until acknowledged; or, when the stanza was settled meanwhile (a handler ended the
    // session, or it went back to the queue), told that or sent along.
    void adopt(std::uint64_t seq, OutcomeHandler handler);
    // A received element: true when it was stream management's own (<r/>, <a/>) and is done
    // with; stanzas are counted and go on.
    bool on_inbound(const Node& node);

    // -- StreamManagementHost (the XMPP module) -----------------------------------------------
    bool has_session() const override {
        return !closing_ && (!resume_id_.empty() || !unacked_.empty());
    }
    const std::string& resume_id() const override { return closing_ ? no_id_ : resume_id_; }
    std::uint32_t handled() const override { return handled_; }
    void enabled(const Node& enabled, const std::string& jid) override;
    std::string resumed(const Node& resumed) override;
    void resume_failed(const Node* failed) override;

    // The application ends the session (Component::shutdown()): an <r/> goes before the
    // closing tag so that what the server handled is acknowledged; the session is not resumed,
    // and what stays unacknowledged is not sent again.
    void on_shutdown();
    // The connection has ended. After on_shutdown() the session ends with it: what the server
    // did not acknowledge is told `dropped`. After a lost link, nothing changes.
    void on_closed();

    // Enabled on the current stream.
    bool active() const { return active_ && stream_.current(); }
    std::size_t unacked() const { return unacked_.size(); }
    void release(); // the timer, before the loop closes

private:
    struct Unacked {
        std::size_t size; // of its bytes in kept_, as written, in the content namespace
        OutcomeHandler handler;
        bool pending = false; // keep_pending(): its handler comes with adopt()
    };
    // A pending stanza settled before adopt(): what it was told, or the holder that the queue's
    // forwarder calls once it is filled.
    struct Settled {
        std::uint64_t seq;
        std::optional<Outcome> outcome;
        std::shared_ptr<OutcomeHandler> holder;
    };
    bool store(const Node& node, std::string_view bytes, bool pending);
    // An entry leaves unacked_: tells its handler `outcome`, or keeps it for adopt() when the
    // handler has not come yet. False when the connection was replaced meanwhile.
    bool settle(Unacked& done, std::uint64_t seq, const Outcome& outcome,
                const Emitter::Token& connection);
    // An unacknowledged stanza (whose bytes are `bytes`, numbered `seq`) as a node again
    // (Node::parse; the fuzz_node target checks that what pcj wrote reads back into a node that
    // writes the same bytes), or nullopt after telling its handler `failed`.
    std::optional<Node> revive(std::string_view bytes, Unacked& u, std::uint64_t seq);
    // Forgets the bytes of every unacknowledged stanza (their entries are gone).
    void forget_kept() { kept_.clear(); }

    bool is_stanza(const Node& node) const;
    void on_ack(const Node& a);
    // Settles the stanzas up to the server's count h; false when a handler replaced the
    // connection.
    bool acknowledge(std::uint32_t h);
    void request_ack();
    // Tells every unacknowledged stanza's handler `dropped` (pcj/outcome.hpp) and forgets them.
    void drop_unacked(const std::string& text);
    void answer_request();
    void arm_timer();
    void send_raw(const std::string& bytes);
    void start_session();

    uv_loop_s* loop_;
    const Config& config_;
    Emitter& emitter_;
    StreamStack& stack_;
    Writer write_;
    Requeue requeue_;
    std::string content_ns_;

    Emitter::Token stream_; // the stream it was enabled on
    bool active_ = false;
    bool resending_ = false;
    bool closing_ = false; // shutdown() was called on an enabled stream
    const std::string no_id_;
    std::string resume_id_;
    std::string jid_;
    std::uint32_t handled_ = 0;  // stanzas received (h we report)
    std::uint32_t acked_ = 0;    // the server's last h
    unsigned since_request_ = 0; // stanzas kept since the last <r/>
    bool awaiting_ack_ = false;  // an <r/> went and no <a/> came since
    LazyDeque<Unacked> unacked_;
    std::uint64_t front_seq_ = 1;  // the number of unacked_.front() (1 for the first ever)
    std::vector<Settled> settled_; // pending stanzas settled before adopt(): nearly always empty
    KeptBytes kept_;               // the bytes of the unacknowledged stanzas, in their order

    std::unique_ptr<Timer> timer_; // made at the first timed request
};

} // namespace pcj::detail
