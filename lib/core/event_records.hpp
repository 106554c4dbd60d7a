// EventRecords: the socket records (doc/events.md: Qore's EVENT_* records, sock::) and the
// connection events (net::, xs::ERROR) — when each fires and what it carries — with the
// "does anyone listen" caches that make a read or a write cost one comparison when nobody does.
//
// The owners that see the things happen (StreamStack, Lifecycle, InboundRouter) call these; each
// returning bool returns false when a handler replaced or ended the connection (stop then).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emitter.hpp"
#include "pcj/payload.hpp"
#include "transport.hpp"

namespace pcj::detail {

class EventRecords {
public:
    explicit EventRecords(Emitter& emitter) : emitter_(emitter) {}

    // Whether anyone listens to the per-read and per-write events, refreshed when the PubSub's
    // subscriptions change.
    struct IoWanted {
        std::uint64_t revision = ~std::uint64_t{0};
        bool packet_read = false, read = false, feed = false;
        bool packet_sent = false, write = false, ready_to_write = false;
    };
    const IoWanted& io() {
        if (emitter_.revision() != io_.revision) {
            refresh_io();
        }
        return io_;
    }

    // A new connection: a new id for its records, which start over.
    void start_connection();
    // The id every record of the current connection carries (Component::connection_id()).
    std::uint64_t connection_id() const { return connection_id_; }

    bool record(SocketRecord& record);
    bool record(Code code, Source source = Source::socket);

    // -- the transport's progress -----------------------------------------------------------
    void on_resolving(const std::string& host);
    void on_resolved(const std::vector<std::string>& addresses);
    void on_connecting(const std::string& address, int family, std::uint16_t port);
    // With happy eyeballs the address that won need not be the last one tried: the transport
    // says which one did, before announce_connected().
    void on_connected_to(const Peer& peer);
    // Whether the connection that won speaks TLS from its first byte (XEP-0368).
    bool peer_direct_tls() const { return peer_.direct_tls; }
    // Finding the server (doc/connecting.md): each SRV record, the fallback to the domain's
    // addresses, each address that failed.
    void on_srv_record(const SrvRecord& record);
    void on_srv_fallback(const Reason& why);
    void on_attempt_failed(const Attempt& attempt, const Reason& why);
    bool announce_connected();
    bool on_packet_read(std::size_t bytes, std::uint64_t total);
    void on_packet_sent(std::size_t bytes, std::uint64_t total, std::uint64_t queued);
    // Plaintext: net::READ and xs::FEED before the parser sees it; net::WRITE once written.
    bool on_plaintext_read(std::string_view bytes, std::uint64_t total);
    void on_plaintext_written(std::size_t bytes, std::uint64_t total);
    void on_drain(std::uint64_t flushed, std::uint64_t total);

    // -- TLS --------------------------------------------------------------------------------
    bool announce_tls_established(TlsInfo info);
    bool announce_tls_failure(const Reason& reason);

    // -- the stream and its end -------------------------------------------------------------
    // Keeps the condition and text for the stream's end, fires xs::ERROR.
    bool on_stream_error(const Node& error);
    // Why the stream ended when the peer closed it: its last <stream:error/>, else peer-closed.
    Reason stream_end_reason() const;
    // The text of a <see-other-host/> stream error ("host[:port]"), "" when there was none.
    const std::string& other_host() const { return other_host_; }
    void note_lost(const Reason& reason) { lost_reason_ = reason; }
    // EVENT_CHANNEL_CLOSED and, when the connection ended (not replaced), net::TCP_DISCONNECT.
    bool announce_closed(bool with_disconnect);
    // EVENT_DELETED, once per connection id.
    void announce_deleted();

private:
    void refresh_io();

    Emitter& emitter_;
    IoWanted io_;
    std::uint64_t connection_id_ = 0;
    Endpoint peer_;                     // the address being tried / connected to
    std::optional<Reason> lost_reason_; // why this connection is ending, if it was lost
    std::string stream_error_condition_;
    std::string stream_error_text_;
    std::string other_host_;
    bool name_lookup_ = false;      // the host is a name (not a numeric address)
    bool socket_open_ = false;      // CONNECTED fired, CHANNEL_CLOSED not yet
    bool deleted_owed_ = false;     // a connection started, DELETED not yet
    bool ever_established_ = false; // a connection of this component reached TCP
};

} // namespace pcj::detail
