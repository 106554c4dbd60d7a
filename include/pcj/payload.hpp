/// @file
/// The typed details of the socket, connection, stream and extension events (Event::payload).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pcj/export.hpp"

namespace pcj {

// -- socket records (after the Qore language's socket event hashes; doc/origins.md) -----------

/// Where a record comes from (Qore's SOURCE_* codes).
enum class Source {
    socket = 1, ///< the TCP socket
    tls = 2,    ///< the TLS session on it
    file = 3,   ///< a certificate or key file
};
/// The source's name ("socket").
PCJ_EXPORT std::string_view to_string(Source source);

/// The record's event code (Qore's EVENT_* codes); sock:: has the matching event names.
enum class Code {
    hostname_lookup = 1,
    hostname_resolved,
    connecting,
    connected,
    start_ssl,
    ssl_established,
    packet_read,
    packet_sent,
    channel_closed,
    deleted,
    open_file,
    file_opened,
    data_read,
};
PCJ_EXPORT std::string_view to_string(Code code); ///< the event name, "EVENT_PACKET_READ"

/// One socket record. The first three fields are the common keys every record carries; of the
/// others only those its event lists are set (see doc/events.md).
struct PCJ_EXPORT SocketRecord {
    Code code{};          ///< which record
    Source source{};      ///< where it comes from
    std::uint64_t id = 0; ///< the connection's unique id (Component::connection_id())

    std::string name;        ///< HOSTNAME_LOOKUP: the name looked up; file events: the file name
    std::string address;     ///< HOSTNAME_RESOLVED, CONNECTING: the numeric address
    int family = 0;          ///< CONNECTING: AF_INET or AF_INET6
    std::uint16_t port = 0;  ///< CONNECTING
    std::uint64_t bytes = 0; ///< PACKET_READ, PACKET_SENT, DATA_READ: bytes in this packet
    std::uint64_t total = 0; ///< the running total of bytes read (or sent) on the connection
    std::uint64_t total_to_send = 0; ///< PACKET_SENT: bytes handed over so far (sent + pending)
    std::string cipher;              ///< SSL_ESTABLISHED
    std::string protocol;            ///< SSL_ESTABLISHED: "TLS1.3"
    std::string purpose; ///< file events: "ca_file", "ca_dir", "client_cert", "client_key"
};

// -- connection and stream events ---------------------------------------------------------------

/// tcp_established, tcp_restablished: the peer address the connection reached.
struct PCJ_EXPORT Endpoint {
    std::string address;     ///< the numeric address
    int family = 0;          ///< AF_INET or AF_INET6
    std::uint16_t port = 0;  ///< the TCP port
    std::string name;        ///< the SRV target or host name it was found under (empty: numeric)
    bool direct_tls = false; ///< TLS from the first byte (tls.policy direct, or an xmpps record)
};

/// srv_record: one SRV record of the XMPP domain, in the order the records will be tried.
struct PCJ_EXPORT SrvRecord {
    std::string service;    ///< "_xmpp-client._tcp" (STARTTLS) or "_xmpps-client._tcp" (Direct TLS)
    std::string target;     ///< the host the record points at
    std::uint16_t port = 0; ///< its port
    std::uint16_t priority = 0; ///< lower is tried first
    std::uint16_t weight = 0;   ///< the share among records of one priority
    bool direct_tls = false;    ///< an xmpps record: TLS from the first byte
};

/// attempt_failed: a host whose lookup failed (address empty) or an address that could not be
/// reached; the event's reason says why. The next one is tried.
struct PCJ_EXPORT Attempt {
    std::string name;        ///< the SRV target or host name (empty for a numeric address)
    std::string address;     ///< the numeric address, empty when the lookup failed
    int family = 0;          ///< AF_INET or AF_INET6; 0 when address is empty
    std::uint16_t port = 0;  ///< the TCP port
    bool direct_tls = false; ///< TLS from the first byte
};

/// ssl_established.
struct PCJ_EXPORT TlsInfo {
    std::string cipher;    ///< the cipher suite, as GnuTLS names it
    std::string protocol;  ///< "TLS1.3", "TLS1.2"
    std::string peer;      ///< the name the certificate was checked against
    bool verified = false; ///< false only when verification is off and no pin is set
};

/// read, write, ready_to_write: byte counts on the connection (after TLS: the plaintext).
struct PCJ_EXPORT Traffic {
    std::uint64_t bytes = 0; ///< in this read or write
    std::uint64_t total = 0; ///< on the connection so far, in the same direction
};

/// feed (the XML text given to the parser), unhandled_xml (the input it rejected).
struct PCJ_EXPORT Text {
    std::string text; ///< the text
};

/// sasl_support: the mechanisms the server offers, in its order.
struct PCJ_EXPORT Mechanisms {
    std::vector<std::string> names; ///< "SCRAM-SHA-256", "PLAIN", …
};

/// sasl_challenge, sasl_response, sasl_success, sasl_failure. `data` is the base64 text of the
/// element for challenges and successes; a response never carries its data (it may hold the
/// password), only its length.
struct PCJ_EXPORT SaslStep {
    std::string mechanism;  ///< the mechanism in use
    std::string data;       ///< base64, for challenges and successes; empty for a response
    std::size_t length = 0; ///< the length of the element's base64 text
};

/// bound_jid: the address the server assigned.
struct PCJ_EXPORT Jid {
    std::string full;     ///< `local@domain/resource`
    std::string local;    ///< the part before '@'
    std::string domain;   ///< the domain
    std::string resource; ///< the part after '/'
};

// -- extension events --------------------------------------------------------------------------

/// One identity of a XEP-0030 entity (category and type from XEP-0030's registry).
struct PCJ_EXPORT DiscoIdentity {
    std::string category; ///< "component", "client", "server", …
    std::string type;     ///< "generic", "bot", "im", …
    std::string name;     ///< a name for people, may be empty
    std::string lang;     ///< the name's xml:lang, may be empty
};

/// query_info: XEP-0030 disco#info of `jid` (and `node`).
struct PCJ_EXPORT DiscoInfo {
    std::string jid;                       ///< the entity that answered
    std::string node;                      ///< the node asked about, may be empty
    std::vector<DiscoIdentity> identities; ///< its identities
    std::vector<std::string> features;     ///< its features (namespaces)
};

/// One item of a XEP-0030 disco#items answer.
struct PCJ_EXPORT DiscoItem {
    std::string jid;  ///< the item's address
    std::string node; ///< its node, may be empty
    std::string name; ///< a name for people, may be empty
};

/// query_items: XEP-0030 disco#items of `jid` (and `node`).
struct PCJ_EXPORT DiscoItems {
    std::string jid;              ///< the entity that answered
    std::string node;             ///< the node asked about, may be empty
    std::vector<DiscoItem> items; ///< its items
};

/// One contact of the roster (RFC 6121 §2.1.2).
struct PCJ_EXPORT RosterItem {
    std::string jid;                   ///< the contact's bare JID
    std::string name;                  ///< the name the user gave it, may be empty
    std::string subscription = "none"; ///< none, to, from, both, remove (in a push)
    bool ask = false;                  ///< ask='subscribe'
    std::vector<std::string> groups;   ///< the groups it is in
};

/// roster_pushed: the item as the push set it.
struct PCJ_EXPORT RosterChange {
    RosterItem item;     ///< the item as pushed
    std::string version; ///< the roster version the push carried, if any
};

/// reconnect_delay and reconnect_stopped: the attempt (1 for the first after a failure) and the
/// delay before it (zero in reconnect_stopped).
struct PCJ_EXPORT ReconnectAttempt {
    unsigned attempt = 0;               ///< 1 for the first attempt after a failure
    std::chrono::milliseconds delay{0}; ///< the wait before it (zero in reconnect_stopped)
};

/// server_trying, server_failed, server_ready: one entry of Config::servers.
struct PCJ_EXPORT ServerChoice {
    std::string host;       ///< the server's host name or address
    std::uint16_t port = 0; ///< its TCP port
    std::size_t index = 0;  ///< its place in Config::servers
    std::size_t tried = 0;  ///< servers tried in this round before it (0: the round's first)
    std::size_t count = 0;  ///< servers in the list
};

/// Everything an event may carry beside its node and reason; std::monostate when nothing.
using Payload = std::variant<std::monostate, SocketRecord, Endpoint, TlsInfo, Traffic, Text,
                             Mechanisms, SaslStep, Jid, DiscoInfo, DiscoItems, RosterChange,
                             SrvRecord, Attempt, ReconnectAttempt, ServerChoice>;

} // namespace pcj
