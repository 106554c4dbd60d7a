/// @file
/// Config: what a Component needs to connect — PCJ's constructor arguments plus timeouts and
/// limits.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pcj/export.hpp"

namespace pcj {

/// PCJ's four connection types, with PCJ's numeric values.
enum class ConnectionType : int {
    JABBERD14_COMPONENT = 0, ///< XEP-0114 accept
    LEGACY = 1,              ///< pre-XMPP, jabber:iq:auth (XEP-0078)
    JABBERD20_COMPONENT = 2, ///< jabberd2 router protocol
    XMPP = 4,                ///< RFC 6120 client
};

/// The type's name as written above ("XMPP").
PCJ_EXPORT std::string_view to_string(ConnectionType type);
/// Accepts the names above and PCJ's numbers ("0", "1", "2", "4"); throws ConfigError otherwise.
PCJ_EXPORT ConnectionType connection_type_from_string(std::string_view text);

/// How a connection uses TLS.
enum class TlsPolicy {
    required, ///< STARTTLS must be offered and succeed before any credential is sent (default)
    optional, ///< STARTTLS when the server offers it; otherwise go on in the clear
    disabled, ///< never TLS (passwords in the clear only with allow_plaintext_password)
    direct,   ///< XEP-0368 Direct TLS: TLS from the first byte, on its own port
};
/// The policy's name as written above ("required").
PCJ_EXPORT std::string_view to_string(TlsPolicy policy);

/// TLS settings (Config::tls): the policy, what to trust, a client certificate.
struct PCJ_EXPORT TlsConfig {
    TlsPolicy policy = TlsPolicy::required; ///< when TLS is used

    /// Verify the server's certificate: chain to a trusted CA, validity dates, and the name =
    /// the XMPP domain (hostname), not the address connected to. Turning it off is logged.
    bool verify = true;
    std::string ca_file; ///< PEM bundle to trust; empty: the system trust store
    std::string ca_dir;  ///< a directory of PEM certificates to trust
    /// "sha256:HEX" of the server certificate's DER or of its public key (SubjectPublicKeyInfo);
    /// a match is enough to trust the server.
    std::vector<std::string> pins;
    std::string client_cert_file; ///< PEM, for SASL EXTERNAL / client authentication
    std::string client_key_file;  ///< PEM, the key of client_cert_file
    std::string priority;         ///< GnuTLS priority string; empty: GnuTLS's NORMAL
};

/// SASL settings (Config::sasl) for XMPP clients and jabberd2 components.
struct PCJ_EXPORT SaslConfig {
    /// The mechanisms pcj may use, e.g. {"SCRAM-SHA-256", "SCRAM-SHA-1"}; empty: all it knows.
    /// pcj always picks the strongest allowed mechanism the server offers.
    std::vector<std::string> mechanisms;
    std::string authzid; ///< the authorization identity to ask for; empty: none
    /// Allow PLAIN, or any password, over a connection that is not encrypted.
    bool allow_plaintext_password = false;
    /// The highest SCRAM iteration count (the server's i=) accepted; a higher one ends the
    /// login before any hashing (a hostile server could make PBKDF2 run for minutes). The
    /// servers' defaults are 4096 to 10000. The hashing itself runs off the loop thread.
    std::uint32_t max_scram_iterations = 100'000;
};

/// Finding the server: DNS and the order of connection attempts (doc/connecting.md).
struct PCJ_EXPORT DnsConfig {
    /// The DNS servers to ask, "ADDRESS" or "ADDRESS:PORT" ("[::1]:5353" for IPv6, port 53 when
    /// none is given); empty: the system's resolver configuration (/etc/resolv.conf).
    std::vector<std::string> servers;
    std::chrono::milliseconds timeout{3'000}; ///< per query, per try
    unsigned tries = 2;                       ///< per query and server
    /// RFC 8305's connection attempt delay: the next address is tried after this long even while
    /// earlier attempts are still waiting (the first to connect wins). Zero: one at a time.
    std::chrono::milliseconds attempt_delay{250}; ///< see above; RFC 8305 recommends 250 ms
};

/// What happens after a connection ends by failure (see doc/unattended.md). Off by default, as
/// in PCJ, where the application calls reconnect() itself. With Config::servers it also moves a
/// connection to the next server (doc/connecting.md).
struct PCJ_EXPORT ReconnectConfig {
    bool enabled = false;                           ///< connect again by itself after a failure
    std::chrono::milliseconds initial_delay{1'000}; ///< the first delay's upper bound
    /// No delay is shorter than this: the jitter draws from [min_delay, bound] instead of
    /// [0, bound]. For servers that need a moment to forget a lost connection (doc/deployment.md:
    /// an ejabberd cluster frees a dead node's component slots only once it has seen the node go).
    std::chrono::milliseconds min_delay{0};
    std::chrono::milliseconds max_delay{60'000}; ///< no delay's upper bound grows past this
    double multiplier = 2.0;                     ///< growth of the bound per attempt (>= 1)
    unsigned max_attempts = 0;                   ///< attempts after one failure; 0: no limit
    /// The jitter's random source, a number in [0, 1); empty: a per-process generator. Tests
    /// give their own.
    std::function<double()> uniform;
};

/// The output queue (see doc/unattended.md). Zero limits mean no limit, as in PCJ.
enum class QueueFullPolicy {
    reject_new,  ///< the stanza that does not fit is refused (outcome failed, queue_rejected)
    drop_oldest, ///< the oldest queued stanzas make room (outcome dropped, queue_dropped)
};
/// The policy's name as written above ("reject_new").
PCJ_EXPORT std::string_view to_string(QueueFullPolicy policy);

/// Limits of the output queue (Config::queue) and when it is written.
struct PCJ_EXPORT QueueConfig {
    std::size_t max_stanzas = 0;                             ///< stanzas waiting in the queue
    std::size_t max_bytes = 0;                               ///< their serialised size
    QueueFullPolicy when_full = QueueFullPolicy::reject_new; ///< what a full queue does
    /// Write the queue at READY by itself; off: it waits for purge_queue(), as PCJ documents.
    bool flush_at_ready = false;
};

/// A token bucket at the queue: stanzas wait until both rates allow them (zero: no limit). The
/// bucket holds one second's worth, so a burst of that size leaves at once.
struct PCJ_EXPORT RateLimitConfig {
    double stanzas_per_second = 0; ///< stanzas written per second at most; 0: no limit
    double bytes_per_second = 0;   ///< serialised bytes written per second at most; 0: no limit
};

/// XEP-0198 stream management, for XMPP clients whose server offers it (doc/unattended.md).
struct PCJ_EXPORT StreamManagementConfig {
    bool enabled = true; ///< enable after bind when the server offers urn:xmpp:sm:3
    bool resume = true;  ///< ask for resumption, and resume after a lost link
    /// request an ack (`<r/>`) after this many stanzas; 0: not by count. One request is out at
    /// a time: stanzas written while it is unanswered are asked for when its `<a/>` comes.
    unsigned ack_every = 5;
    std::chrono::milliseconds ack_after{2'000}; ///< and this long after an unacked write; 0: never
};

/// One server of a list (Config::servers): a host name or address and its TCP port.
struct PCJ_EXPORT ServerAddress {
    std::string host;       ///< a host name or an IP address (IPv6 without brackets)
    std::uint16_t port = 0; ///< its TCP port
};

/// Everything a Component needs to connect: PCJ's constructor arguments (the first group, under
/// PCJ's names) plus TLS, SASL, DNS, timeouts, unattended operation and limits on what the peer
/// may send. Defaults are those of PCJ where PCJ had one. Component's constructor checks it.
struct PCJ_EXPORT Config {
    // -- PCJ's constructor arguments -----------------------------------------------------------
    /// The host name or address to connect to (PCJ's IP). XMPP and LEGACY may leave it empty:
    /// the server is then found through the SRV records of `hostname` (RFC 6120 §3.2, XEP-0368),
    /// or, without records, at `hostname` itself on `port` (5222 when port is 0).
    std::string ip;
    std::uint16_t port = 0; ///< TCP port; required when ip is set
    std::string hostname;   ///< the XMPP domain: stream 'to', component name, SASL realm host
    std::string username;   ///< not used by JABBERD14_COMPONENT
    std::string password;   ///< password or component secret
    std::string resource;   ///< generated when empty (XMPP bind, LEGACY iq:auth)
    std::string alias = "POE_COMPONENT_JABBER"; ///< a name for logs; many components may share one
    std::optional<ConnectionType> connection_type; ///< required
    std::optional<std::string> version; ///< stream 'version'; default depends on the type
    std::optional<std::string> xmlns;   ///< stream default namespace; default depends on the type
    std::string stream_ns = "http://etherx.jabber.org/streams"; ///< the stream element's namespace
    bool debug = false; ///< log every node sent and received

    /// Several servers instead of one (ip and port then stay empty): the nodes of a cluster that
    /// all serve `hostname`. connect() tries them in order (or in a random order, see below)
    /// until one accepts the TCP connection; the reconnect policy moves on to the next one when
    /// the one in use fails (doc/connecting.md, "Several servers").
    std::vector<ServerAddress> servers;
    /// Draw a new random order of `servers` for every round instead of the listed order, so that
    /// many processes given the same list spread over the servers.
    bool shuffle_servers = false;

    // -- XMPP, LEGACY and JABBERD20_COMPONENT --------------------------------------------------
    TlsConfig tls;             ///< TLS: policy, trust, client certificate
    SaslConfig sasl;           ///< SASL: mechanisms, authorization identity, limits
    unsigned bind_retries = 3; ///< new generated resources tried after a bind conflict

    // -- XMPP and LEGACY clients ------------------------------------------------------------------
    /// Fetch the roster (RFC 6121 jabber:iq:roster) as soon as the connection is READY, so that
    /// session().roster() is filled and the server pushes changes (ext::ROSTER_LOADED). Off by
    /// default, as in PCJ; Component::request_roster() asks at any time.
    bool roster_fetch = false;

    // -- JABBERD20_COMPONENT --------------------------------------------------------------------
    std::string bind_domain; ///< default: username + "." + hostname
    std::string bind_option; ///< an empty child of `<bind/>`, e.g. "log" or "default"

    // -- finding the server (every type: host names are looked up with these settings) ------
    DnsConfig dns; ///< DNS servers, timeouts and the connection attempt delay

    // -- timeouts (zero disables) -----------------------------------------------------------
    std::chrono::milliseconds connect_timeout{10'000};     ///< per address tried
    std::chrono::milliseconds negotiation_timeout{30'000}; ///< CONNECTED → READY
    std::chrono::milliseconds shutdown_timeout{5'000}; ///< wait for the peer's `</stream:stream>`
    std::chrono::milliseconds rts_timeout{0};          ///< default per-request timeout

    // -- unattended operation --------------------------------------------------------------------
    ReconnectConfig reconnect;                ///< the reconnect policy (off by default)
    StreamManagementConfig stream_management; ///< XEP-0198 for XMPP clients (on by default)
    QueueConfig queue;                        ///< the output queue's limits
    RateLimitConfig rate_limit;               ///< the send rate limit (none by default)
    /// How many received messages (their `from` and `id`) are remembered to drop a repeat
    /// (un::DUPLICATE_DROPPED). A sender re-sends, id included, what its server died before
    /// acknowledging (doc/unattended.md): with a window, a receiver sees such a message once.
    /// Messages without an id are never dropped. 0 (the default): off.
    std::size_t duplicate_window = 0;

    // -- limits on what the peer may send ------------------------------------------------------
    std::size_t max_stanza_size = 1024 * 1024; ///< bytes of one top-level element
    std::size_t max_depth = 64;                ///< element nesting inside a stanza
    /// Attributes plus namespace declarations in one start tag. libxml2's duplicate check is
    /// quadratic in them, so the bound is checked before libxml2 sees the tag.
    std::size_t max_attributes = 64;
    /// Namespace declarations in one stanza, all elements together (libxml2 looks prefixes up
    /// through every declaration in scope).
    std::size_t max_namespace_declarations = 64;
    /// The longest one stanza (or the stream header) may take to arrive, from its first byte
    /// to its last; checked when bytes arrive. Zero disables.
    std::chrono::milliseconds max_stanza_time{30'000};

    /// Fills defaults and checks every field; throws ConfigError with a message naming the field.
    /// Component's constructor calls it; calling it yourself shows what a component would use.
    void validate_and_complete();

    /// The stream 'version' and default namespace in use: the configured ones, or the defaults
    /// PCJ uses per connection type.
    ///@{
    std::string effective_version() const;
    std::string effective_xmlns() const;
    ///@}
};

} // namespace pcj
