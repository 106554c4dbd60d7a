/// @file
/// The status events (PCJ's 28 constants) and the payload every event carries.
#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "pcj/export.hpp"
#include "pcj/payload.hpp"

namespace pcj {

class Node;

/// PCJ's status events. The string value is the name to subscribe to; it equals the constant's
/// name (PCJ spelled PCJ_STREAMSTART's value "PCJ_STEAMSTART"; pcj does not).
namespace ev {
/// Fires when connect() or reconnect() was called.
inline constexpr std::string_view CONNECT = "PCJ_CONNECT";
/// Name resolution and the TCP connection started.
inline constexpr std::string_view CONNECTING = "PCJ_CONNECTING";
/// TCP is up; negotiation starts.
inline constexpr std::string_view CONNECTED = "PCJ_CONNECTED";
/// No address could be connected (reason: op "resolve" or "connect").
inline constexpr std::string_view CONNECTFAIL = "PCJ_CONNECTFAIL";
/// A stream header was sent (node: the header), at the start and at every restart.
inline constexpr std::string_view STREAMSTART = "PCJ_STREAMSTART";
/// Fires when shutdown() sent `</stream:stream>`.
inline constexpr std::string_view STREAMEND = "PCJ_STREAMEND";
/// A node was written (node).
inline constexpr std::string_view NODESENT = "PCJ_NODESENT";
/// After READY, a stanza that was no return_to_sender reply, after the filters (node).
inline constexpr std::string_view NODERECEIVED = "PCJ_NODERECEIVED";
/// Fires when output() is called before READY or after the connection ended: the node (a
/// copy) waits in the queue.
inline constexpr std::string_view NODEQUEUED = "PCJ_NODEQUEUED";
/// `<starttls/>` was sent.
inline constexpr std::string_view SSLNEGOTIATE = "PCJ_SSLNEGOTIATE";
/// TLS is up and the certificate verified.
inline constexpr std::string_view SSLSUCCESS = "PCJ_SSLSUCCESS";
/// TLS failed or could not be used (reason).
inline constexpr std::string_view SSLFAIL = "PCJ_SSLFAIL";
/// Authentication started (SASL `<auth/>` or the XEP-0114 handshake).
inline constexpr std::string_view AUTHNEGOTIATE = "PCJ_AUTHNEGOTIATE";
/// Authentication accepted.
inline constexpr std::string_view AUTHSUCCESS = "PCJ_AUTHSUCCESS";
/// Authentication refused, or the connection ended during it (reason).
inline constexpr std::string_view AUTHFAIL = "PCJ_AUTHFAIL";
/// Resource binding started (XMPP).
inline constexpr std::string_view BINDNEGOTIATE = "PCJ_BINDNEGOTIATE";
/// The resource is bound (XMPP).
inline constexpr std::string_view BINDSUCCESS = "PCJ_BINDSUCCESS";
/// Resource binding failed (XMPP; reason).
inline constexpr std::string_view BINDFAIL = "PCJ_BINDFAIL";
/// Session establishment started (XMPP, when the server requires it).
inline constexpr std::string_view SESSIONNEGOTIATE = "PCJ_SESSIONNEGOTIATE";
/// The session is established.
inline constexpr std::string_view SESSIONSUCCESS = "PCJ_SESSIONSUCCESS";
/// Session establishment failed (reason).
inline constexpr std::string_view SESSIONFAIL = "PCJ_SESSIONFAIL";
/// Return_to_sender() sent or queued a request (node: the request with its id).
inline constexpr std::string_view RTS_START = "PCJ_RTS_START";
/// A reply matched a pending request, after the requester got it (node: the reply).
inline constexpr std::string_view RTS_FINISH = "PCJ_RTS_FINISH";
/// Negotiation finished: output() now writes at once and jid() is set.
inline constexpr std::string_view READY = "PCJ_READY";
/// A shutdown began (reason when the peer caused it).
inline constexpr std::string_view SHUTDOWN_START = "PCJ_SHUTDOWN_START";
/// The shutdown completed and the socket is closed.
inline constexpr std::string_view SHUTDOWN_FINISH = "PCJ_SHUTDOWN_FINISH";
/// The connection broke: a read or write error, end of file, refused input (reason).
inline constexpr std::string_view SOCKETFAIL = "PCJ_SOCKETFAIL";
/// The socket is closed, after a shutdown and after a failure alike.
inline constexpr std::string_view SOCKETDISCONNECT = "PCJ_SOCKETDISCONNECT";

/// Every status event, in the order above.
inline constexpr std::array<std::string_view, 28> all = {
    CONNECT,          CONNECTING,      CONNECTED,   CONNECTFAIL,     STREAMSTART, STREAMEND,
    NODESENT,         NODERECEIVED,    NODEQUEUED,  SSLNEGOTIATE,    SSLSUCCESS,  SSLFAIL,
    AUTHNEGOTIATE,    AUTHSUCCESS,     AUTHFAIL,    BINDNEGOTIATE,   BINDSUCCESS, BINDFAIL,
    SESSIONNEGOTIATE, SESSIONSUCCESS,  SESSIONFAIL, RTS_START,       RTS_FINISH,  READY,
    SHUTDOWN_START,   SHUTDOWN_FINISH, SOCKETFAIL,  SOCKETDISCONNECT};
} // namespace ev

/// The connection events, named as in the event table of a Python XMPP library that pcj follows
/// (doc/origins.md). The comment after each says what it carries; doc/events.md says when it fires.
namespace net {
inline constexpr std::string_view TCP_ESTABLISHED = "tcp_established";   ///< Endpoint
inline constexpr std::string_view TCP_RESTABLISHED = "tcp_restablished"; ///< Endpoint
inline constexpr std::string_view TCP_DOWNGRADED = "tcp_downgraded";     ///< reason
inline constexpr std::string_view TCP_DISCONNECT = "tcp_disconnect";     ///< reason when lost
inline constexpr std::string_view TCP_FAILED = "tcp_failed";             ///< reason
inline constexpr std::string_view SSL_START = "ssl_start";             ///< the TLS handshake starts
inline constexpr std::string_view SSL_ESTABLISHED = "ssl_established"; ///< TlsInfo
inline constexpr std::string_view SSL_INVALID_CHAIN = "ssl_invalid_chain"; ///< reason
inline constexpr std::string_view SSL_INVALID_CERT = "ssl_invalid_cert";   ///< reason
inline constexpr std::string_view SSL_FAILED = "ssl_failed";               ///< reason
inline constexpr std::string_view WRITE = "write";                         ///< Traffic
inline constexpr std::string_view READ = "read";                           ///< Traffic
inline constexpr std::string_view READY_TO_WRITE = "ready_to_write";       ///< Traffic
inline constexpr std::string_view READY_TO_READ = "ready_to_read";         ///< the connection reads
/// pcj's own, for finding the server (doc/connecting.md).
inline constexpr std::string_view SRV_RECORD = "srv_record";         ///< SrvRecord
inline constexpr std::string_view SRV_FALLBACK = "srv_fallback";     ///< reason
inline constexpr std::string_view ATTEMPT_FAILED = "attempt_failed"; ///< Attempt, reason

/// Every connection event.
inline constexpr std::array<std::string_view, 17> all = {
    TCP_ESTABLISHED, TCP_RESTABLISHED,  TCP_DOWNGRADED,   TCP_DISCONNECT, TCP_FAILED,    SSL_START,
    SSL_ESTABLISHED, SSL_INVALID_CHAIN, SSL_INVALID_CERT, SSL_FAILED,     WRITE,         READ,
    READY_TO_WRITE,  READY_TO_READ,     SRV_RECORD,       SRV_FALLBACK,   ATTEMPT_FAILED};
} // namespace net

/// The XML stream events, named as in the same event table (doc/origins.md). The comment after
/// each says what it carries.
namespace xs {
inline constexpr std::string_view FEED = "feed";     ///< Text
inline constexpr std::string_view OPEN = "open";     ///< node: the peer's header
inline constexpr std::string_view CLOSED = "closed"; ///< the peer's `</stream:stream>` arrived
inline constexpr std::string_view ERROR = "error";   ///< node, reason
inline constexpr std::string_view UNHANDLED_XML = "unhandled_xml";   ///< Text, reason
inline constexpr std::string_view NODE = "node";                     ///< node
inline constexpr std::string_view IQ = "iq";                         ///< node
inline constexpr std::string_view MESSAGE = "message";               ///< node
inline constexpr std::string_view PRESENCE = "presence";             ///< node
inline constexpr std::string_view IQ_RESULT = "iq_result";           ///< node
inline constexpr std::string_view IQ_SET = "iq_set";                 ///< node
inline constexpr std::string_view IQ_GET = "iq_get";                 ///< node
inline constexpr std::string_view IQ_ERROR = "iq_error";             ///< node
inline constexpr std::string_view START_STREAM = "start_stream";     ///< node: our header
inline constexpr std::string_view START_TLS = "start_tls";           ///< node: `<starttls/>`
inline constexpr std::string_view TLS_PROCEED = "tls_proceed";       ///< node: `<proceed/>`
inline constexpr std::string_view SASL_SUPPORT = "sasl_support";     ///< node, Mechanisms
inline constexpr std::string_view SASL_CHALLENGE = "sasl_challenge"; ///< node, SaslStep
inline constexpr std::string_view SASL_RESPONSE = "sasl_response";   ///< SaslStep, no node
inline constexpr std::string_view SASL_SUCCESS = "sasl_success";     ///< node, SaslStep
inline constexpr std::string_view SASL_FAILURE = "sasl_failure";     ///< node, SaslStep, reason
inline constexpr std::string_view BIND_SUPPORT = "bind_support";     ///< node: `<bind/>`
inline constexpr std::string_view BOUND_JID = "bound_jid";           ///< node, Jid
inline constexpr std::string_view USER_REGISTRATION = "user_registration"; ///< node: `<register/>`
inline constexpr std::string_view SUCCESS_HANDSHAKE = "success_handshake"; ///< node

/// Every XML stream event.
inline constexpr std::array<std::string_view, 25> all = {FEED,
                                                         SUCCESS_HANDSHAKE,
                                                         OPEN,
                                                         CLOSED,
                                                         ERROR,
                                                         UNHANDLED_XML,
                                                         NODE,
                                                         IQ,
                                                         MESSAGE,
                                                         PRESENCE,
                                                         IQ_RESULT,
                                                         IQ_SET,
                                                         IQ_GET,
                                                         IQ_ERROR,
                                                         START_STREAM,
                                                         START_TLS,
                                                         TLS_PROCEED,
                                                         SASL_SUPPORT,
                                                         SASL_CHALLENGE,
                                                         SASL_RESPONSE,
                                                         SASL_SUCCESS,
                                                         SASL_FAILURE,
                                                         BIND_SUPPORT,
                                                         BOUND_JID,
                                                         USER_REGISTRATION};
} // namespace xs

/// The socket records, named after the Qore language's socket events (doc/origins.md); each
/// carries a SocketRecord.
namespace sock {
/// A name is about to be looked up (`name`).
inline constexpr std::string_view HOSTNAME_LOOKUP = "EVENT_HOSTNAME_LOOKUP";
/// A name resolved: one record per address (`address`).
inline constexpr std::string_view HOSTNAME_RESOLVED = "EVENT_HOSTNAME_RESOLVED";
/// An address is about to be tried (`family`, `address`, `port`).
inline constexpr std::string_view CONNECTING = "EVENT_CONNECTING";
/// TCP is up.
inline constexpr std::string_view CONNECTED = "EVENT_CONNECTED";
/// Just before the TLS ClientHello (source tls).
inline constexpr std::string_view START_SSL = "EVENT_START_SSL";
/// The TLS handshake finished and verified (`cipher`, `protocol`).
inline constexpr std::string_view SSL_ESTABLISHED = "EVENT_SSL_ESTABLISHED";
/// After each read from the socket (`bytes`, `total`).
inline constexpr std::string_view PACKET_READ = "EVENT_PACKET_READ";
/// After each completed socket write (`bytes`, `total`, `total_to_send`).
inline constexpr std::string_view PACKET_SENT = "EVENT_PACKET_SENT";
/// The socket of an established connection was closed.
inline constexpr std::string_view CHANNEL_CLOSED = "EVENT_CHANNEL_CLOSED";
/// The connection's transport state is discarded: the last record of its id.
inline constexpr std::string_view DELETED = "EVENT_DELETED";
/// A CA file, CA directory file, client certificate or key is about to be opened.
inline constexpr std::string_view OPEN_FILE = "EVENT_OPEN_FILE";
/// That file is open (`name`, `purpose`).
inline constexpr std::string_view FILE_OPENED = "EVENT_FILE_OPENED";
/// After each read from that file (`bytes`, `total`).
inline constexpr std::string_view DATA_READ = "EVENT_DATA_READ";

/// Every socket record.
inline constexpr std::array<std::string_view, 13> all = {
    HOSTNAME_LOOKUP, HOSTNAME_RESOLVED, CONNECTING,  CONNECTED,      START_SSL,
    SSL_ESTABLISHED, PACKET_READ,       PACKET_SENT, CHANNEL_CLOSED, DELETED,
    OPEN_FILE,       FILE_OPENED,       DATA_READ};
} // namespace sock

/// Events of the built-in extensions and of the session (see pcj/extension.hpp, pcj/session.hpp).
namespace ext {
inline constexpr std::string_view QUERY_INFO = "query_info";       ///< node, DiscoInfo / reason
inline constexpr std::string_view QUERY_ITEMS = "query_items";     ///< node, DiscoItems / reason
inline constexpr std::string_view ROSTER_LOADED = "roster_loaded"; ///< node / reason
inline constexpr std::string_view ROSTER_PUSHED = "roster_pushed"; ///< node, RosterChange
inline constexpr std::string_view PING_TIMEOUT = "ping_timeout";   ///< reason
} // namespace ext

/// XEP-0198 stream management (XMPP clients; doc/unattended.md).
namespace sm {
inline constexpr std::string_view ENABLED = "sm_enabled";             ///< node: `<enabled/>`
inline constexpr std::string_view RESUMED = "sm_resumed";             ///< node: `<resumed/>`
inline constexpr std::string_view RESUME_FAILED = "sm_resume_failed"; ///< node: `<failed/>`, reason
inline constexpr std::string_view ACK = "sm_ack";                     ///< node: `<a/>`
} // namespace sm
/// Unattended operation (doc/unattended.md): the reconnect policy, the bounded queue, replies
/// from the address asked.
namespace un {
inline constexpr std::string_view RECONNECT_DELAY = "reconnect_delay"; ///< ReconnectAttempt, reason
inline constexpr std::string_view RECONNECT_STOPPED =
    "reconnect_stopped";                                             ///< ReconnectAttempt, reason
inline constexpr std::string_view QUEUE_REJECTED = "queue_rejected"; ///< node, reason
inline constexpr std::string_view QUEUE_DROPPED = "queue_dropped";   ///< node, reason
inline constexpr std::string_view RTS_FOREIGN_REPLY =
    "rts_foreign_reply"; ///< node, Text: the 'to' asked
/// A received message with the `from` and `id` of one among the last Config::duplicate_window:
/// dropped before any other event or filter sees it. Node: the repeated message.
inline constexpr std::string_view DUPLICATE_DROPPED = "duplicate_dropped";
/// Config::servers (doc/connecting.md): a server is tried. Payload: ServerChoice.
inline constexpr std::string_view SERVER_TRYING = "server_trying";
/// A server of Config::servers could not be reached; the next one is tried at once. Payload:
/// ServerChoice; reason.
inline constexpr std::string_view SERVER_FAILED = "server_failed";
/// The connection on a server of Config::servers reached READY (just before PCJ_READY).
/// Payload: ServerChoice.
inline constexpr std::string_view SERVER_READY = "server_ready";
} // namespace un

/// Why something failed. Every failure event carries one.
struct PCJ_EXPORT Reason {
    std::string op; ///< what failed: "connect", "read", "write", "resolve", "handshake", "xml", …
    int code = 0;   ///< errno / libuv error / protocol code (0 when there is none)
    std::string condition; ///< the protocol's condition: "not-authorized", "conflict", "409", …
    std::string text;      ///< for a person to read

    /// The reason in one line for a log, "op: text (code, condition)", leaving out the empty parts
    /// (without a text, the condition takes its place).
    std::string to_string() const;
};

/// What a subscriber receives. Pointers and spans are valid for the duration of the call only;
/// copy what must outlive it.
struct PCJ_EXPORT Event {
    std::string_view name;            ///< the event's name (one of the constants above)
    const Node* node = nullptr;       ///< the node concerned: stanza, stream header, RTS reply
    const Reason* reason = nullptr;   ///< set on failure events
    std::string_view xpath;           ///< filter events: the expression that matched
    std::span<const Node> matches;    ///< filter events: the nodes the expression selected
    const Payload* payload = nullptr; ///< the typed details (pcj/payload.hpp), or null

    /// The payload as T, or null when the event carries none of that type.
    template <typename T> const T* get() const {
        return payload != nullptr ? std::get_if<T>(payload) : nullptr;
    }
};

} // namespace pcj
