// StreamStack: the layers a byte passes between the socket and a parsed stanza — the transport,
// TLS once started, the XML parser — as Swiften's StreamStack stacks them. It owns the byte
// counters, the timer that frees the parser of an idle connection, and the TLS credentials.
//
// Upward it reports to two narrow interfaces: the connection's own happenings (connected, lost,
// TLS up or failed, the peer's stream header and end, XML it rejected) to a Listener (the
// Lifecycle), and every parsed top-level element to a StanzaSink (the InboundRouter). Socket
// records and net:: events go to EventRecords as they happen.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "emitter.hpp"
#include "event_records.hpp"
#include "graveyard.hpp"
#include "pcj/config.hpp"
#include "timer.hpp"
#include "tls.hpp"
#include "transport.hpp"
#include "xml_stream.hpp"

struct uv_loop_s;

namespace pcj::detail {

class StreamStack {
public:
    class Listener {
    public:
        virtual void on_connected() = 0;
        virtual void on_transport_failure(const Reason& reason) = 0;
        virtual void on_transport_closed() = 0;
        // After the records (ssl_established, net::SSL_ESTABLISHED / the failure event) fired.
        virtual void on_tls_established() = 0;
        virtual void on_tls_failure(const Reason& reason) = 0;
        virtual void on_tls_closed() = 0;
        virtual void on_stream_start(Node header) = 0;
        virtual void on_stream_end() = 0;
        virtual void on_xml_error(const Reason& reason) = 0;

    protected:
        ~Listener() = default;
    };
    class StanzaSink {
    public:
        // Lent: the parser reuses the node's storage for the next element.
        virtual void on_stanza(const Node& node) = 0;

    protected:
        ~StanzaSink() = default;
    };

    // Throws ConfigError when the TLS options cannot work (checked without reading a file).
    StreamStack(uv_loop_s* loop, const Config& config, Emitter& emitter, Graveyard& graveyard,
                EventRecords& records);
    // Who hears what the stack finds; set once, before the first connect().
    void set_listeners(Listener& listener, StanzaSink& sink) {
        listener_ = &listener;
        sink_ = &sink;
    }

    // A new connection: counters, parser and quiet check start over.
    void start_connection();
    void connect(std::string host, std::uint16_t port);
    void abort() { transport_->abort(); }
    // close_notify (when TLS is up), then the TCP close; once per connection.
    void close_gracefully();
    // The connection is over: no more ready_to_write for it; the quiet check stops.
    void on_disconnected();
    // The peer answers a new stream header with a new stream: parse it from a clean state.
    void restart_parser() { xml_->reset(); }
    // Called by the quiet timer after it trimmed the parser (no data for a whole period), so
    // that the owners above give back what an idle connection does not use; set once.
    void set_quiet_hook(std::function<void()> hook) { quiet_hook_ = std::move(hook); }

    // Plaintext out: through TLS when it is up, net::WRITE after.
    void send(std::string_view bytes);

    // TLS on this connection (STARTTLS's <proceed/>, or Direct TLS): the Listener hears how it
    // ends. A no-op when TLS is not possible for this configuration or already started.
    void start_tls();
    bool tls_possible() const { return tls_possible_; }
    bool encrypted() const { return tls_ && tls_->established(); }
    std::pair<std::string, std::string> channel_binding() const;
    // The TLS session goes to the graveyard with the connection's protocol module.
    void retire_tls() { graveyard_.bury(std::move(tls_)); }

    // The bytes being fed to the parser now (what xs::UNHANDLED_XML carries).
    std::string_view feeding() const { return feeding_; }
    std::chrono::steady_clock::time_point last_received() const { return last_received_; }
    void release(); // every libuv handle, before the loop closes
    uv_loop_s* loop() const { return loop_; }

private:
    Transport::Callbacks transport_callbacks();
    Destination destination(std::string host, std::uint16_t port) const;
    XmlStream::Callbacks parser_callbacks();
    void on_data(std::string_view bytes);
    void feed_parser(std::string_view bytes);
    void on_drain();
    void note_quiet_later();
    void on_quiet_timer();
    bool load_tls_credentials();
    void tls_established();
    void tls_failed(const Reason& reason);

    uv_loop_s* loop_;
    const Config& config_;
    Emitter& emitter_;
    Graveyard& graveyard_;
    EventRecords& records_;
    Listener* listener_ = nullptr;
    StanzaSink* sink_ = nullptr;

    std::unique_ptr<Transport> transport_;
    // Loaded at the first TLS start (so that the file records reach subscribers), when TLS may
    // be used at all (tls_possible_); checked for readability at construction.
    std::shared_ptr<TlsCredentials> tls_credentials_;
    bool tls_possible_ = false;
    TlsOptions tls_options_;
    std::unique_ptr<TlsSession> tls_;
    std::unique_ptr<XmlStream> xml_;
    // Frees the XML parser once no data has arrived for a while (see note_quiet_later()):
    // made at the first read, re-armed at most once per period, never per read.
    std::unique_ptr<Timer> quiet_timer_;
    bool fed_since_quiet_check_ = false;
    std::function<void()> quiet_hook_;

    std::chrono::steady_clock::time_point last_received_{};
    std::uint64_t plain_read_ = 0;     // bytes handed to the parser on this connection
    std::uint64_t plain_written_ = 0;  // bytes written by the component (before TLS)
    std::uint64_t plain_at_drain_ = 0; // plain_written_ at the last ready_to_write
    std::string_view feeding_;         // the bytes the parser is being fed, for unhandled_xml
    bool live_ = false;                // connect() called, on_disconnected() not yet
    bool closing_ = false;             // transport close requested
};

} // namespace pcj::detail
