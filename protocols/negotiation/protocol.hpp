// The interface every connection type implements, and what the core offers it (ProtocolHost).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "pcj/config.hpp"
#include "pcj/events.hpp"
#include "pcj/log.hpp"
#include "pcj/node.hpp"
#include "pcj/pubsub.hpp"
#include "stream_error.hpp"

namespace pcj::detail {

// XEP-0198 stream management as the core keeps it across connections (a protocol module lives
// for one connection only). The module negotiates; this counts, acknowledges and re-sends.
class StreamManagementHost {
public:
    // A previous session exists whose unacknowledged stanzas are not settled yet.
    virtual bool has_session() const = 0;
    // The id to resume (<resume previd/>), or empty when the session cannot be resumed.
    virtual const std::string& resume_id() const = 0;
    // Stanzas handled from the server (h, modulo 2^32), for <resume h/>.
    virtual std::uint32_t handled() const = 0;
    // The server's <enabled/> after binding `jid`: a new session, counted from zero.
    virtual void enabled(const Node& enabled, const std::string& jid) = 0;
    // The server's <resumed h/>: acknowledges up to h, re-sends the rest in order, and returns
    // the JID the session was bound to.
    virtual std::string resumed(const Node& resumed) = 0;
    // The previous session is gone (the server's <failed/> to <resume/>, or null when no
    // resumption was possible): the unacknowledged stanzas go back to the head of the queue.
    virtual void resume_failed(const Node* failed) = 0;

protected:
    ~StreamManagementHost() = default;
};

// What a protocol module may do to its connection. Implemented by the core (ComponentImpl).
class ProtocolHost {
public:
    virtual const Config& config() const = 0;
    // Writes the stream header built from the configuration (restarting the inbound parser, as
    // a stream restart needs) and fires PCJ_STREAMSTART.
    virtual void send_stream_header() = 0;
    // Writes a node now, whatever the state (negotiation traffic), and fires PCJ_NODESENT.
    virtual void send(const Node& node) = 0;
    // An internal return_to_sender: the reply goes to `on_reply` (PCJ_RTS_START fires as in PCJ).
    virtual std::string request(Node node, Handler on_reply) = 0;
    virtual void emit(std::string_view event, const Reason* reason = nullptr,
                      const Node* node = nullptr) = 0;
    // With a typed payload (the seeds' events). Build it only when wanted(event).
    virtual void emit(std::string_view event, const Payload& payload, const Node* node = nullptr,
                      const Reason* reason = nullptr) = 0;
    // Whether anyone listens to `event`.
    virtual bool wanted(std::string_view event) const = 0;
    virtual void set_jid(std::string jid) = 0;
    // Starts TLS on the connection (after <proceed/>): on_tls_established or on_tls_failed follows.
    virtual void start_tls() = 0;
    virtual bool encrypted() const = 0;
    // {type, bytes} for SASL channel binding, or an empty type (see TlsSession).
    virtual std::pair<std::string, std::string> channel_binding() const = 0;
    // Negotiation is finished: hand the connection to the core, which fires PCJ_READY.
    virtual void ready() = 0;
    // Fires `event` with the reason, then shuts the connection down cleanly. The protocol must not
    // touch the connection afterwards.
    virtual void fail(std::string_view event, Reason reason) = 0;
    virtual void log(LogLevel level, std::string_view line) = 0;
    // Runs `work` off the loop thread (the core uses libuv's threadpool), then `done` on the
    // loop thread. Meant for costly pure computation such as SCRAM's PBKDF2, so that one
    // connection's login does not stall the others on its loop. `done` must check that its
    // owner still exists. Without a loop (this default) both run at once, in place.
    virtual void run_off_loop(std::function<void()> work, std::function<void()> done) {
        work();
        done();
    }
    // False once the connection this module was made for has been replaced or closed: every
    // call above is then a no-op, so code that resumes after an event handler is harmless.
    virtual bool current() const = 0;
    // XEP-0198 state kept across connections, or null where the core keeps none.
    virtual StreamManagementHost* stream_management() { return nullptr; }

protected:
    ~ProtocolHost() = default;
};

// One connection type: a small state machine driven by the core while negotiating. A fresh
// instance is made for every connection, so no protocol state survives a reconnect (PCJ's
// helper kept the offered mechanisms, the session and STARTTLS flags and its TLS tries).
class Protocol {
public:
    virtual ~Protocol() = default;
    virtual std::string_view name() const = 0;
    // TCP is up: typically send the stream header.
    virtual void on_connected() = 0;
    // The peer's stream header (at the start and after every restart).
    virtual void on_stream_start(const Node& header) = 0;
    // A top-level element while negotiating (replies to request() never come here).
    virtual void on_node(const Node& node) = 0;
    // The peer ended the stream (</stream:stream>) while negotiating.
    virtual void on_stream_end() = 0;
    // The connection was lost while negotiating: fire this stage's failure event with the
    // reason (the core fires PCJ_SOCKETFAIL and closes; do not call fail()).
    virtual void on_connection_lost(const Reason& reason) = 0;
    // Negotiation took longer than config().negotiation_timeout.
    virtual void on_timeout() = 0;
    // TLS started by start_tls() (or Direct TLS before on_connected) is up and verified.
    virtual void on_tls_established() {}
    // TLS failed (reason.condition ssl_invalid_chain, ssl_invalid_cert or ssl_failed). The core
    // closes the connection afterwards; fire PCJ_SSLFAIL with the reason here.
    virtual void on_tls_failed(const Reason& reason) { (void)reason; }
};

// What a connection type registers: how to make its module for a new connection, and how to
// find the stanza inside one of its envelopes (a jabberd2 <route/>), or null where it has none.
struct ProtocolEntry {
    std::unique_ptr<Protocol> (*make)(ProtocolHost& host) = nullptr;
    // The stanza an envelope carries (its id, type and sender are that stanza's), or nullptr
    // when `node` is not an envelope. Null: the type has no envelopes.
    const Node* (*unwrap)(const Node& node) = nullptr;
};

// Called at load time by PCJ_REGISTER_PROTOCOL; the core never names a connection type's class.
bool register_protocol(ConnectionType type, ProtocolEntry entry);
// The registered entry; throws ConfigError for a type that has no module.
const ProtocolEntry& protocol_entry(ConnectionType type);
std::unique_ptr<Protocol> make_protocol(ConnectionType type, ProtocolHost& host);

// In a connection type's .cpp: registers Class (constructible from ProtocolHost&) for `type`,
// with UNWRAP (a `const Node* (*)(const Node&)`, or nullptr).
#define PCJ_REGISTER_PROTOCOL(type, Class, unwrap_fn)                                              \
    namespace {                                                                                    \
    [[maybe_unused]] const bool registered_##Class = ::pcj::detail::register_protocol(             \
        type, ::pcj::detail::ProtocolEntry{                                                        \
                  [](::pcj::detail::ProtocolHost& host) -> std::unique_ptr<Protocol> {             \
                      return std::make_unique<Class>(host);                                        \
                  },                                                                               \
                  unwrap_fn});                                                                     \
    }

// Fires the xs:: feature events (doc/events.md, "XML stream") for what <stream:features/>
// advertises, in its order: xs::START_TLS (<starttls/>), xs::SASL_SUPPORT (<mechanisms/>, with
// their names), xs::BIND_SUPPORT (<bind/>), xs::USER_REGISTRATION (XEP-0077's <register/>). Returns
// host.current(): false when a handler replaced the connection.
bool report_features(ProtocolHost& host, const Node& features);

} // namespace pcj::detail
