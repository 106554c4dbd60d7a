// ComponentImpl: the broker's state — connection, parser, protocol module, queue, pending, filters.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "door.hpp"
#include "extensions.hpp"
#include "pcj/component.hpp"
#include "pending.hpp"
#include "protocol.hpp"
#include "session.hpp"
#include "timer.hpp"
#include "tls.hpp"
#include "transport.hpp"
#include "xml_stream.hpp"
#include "xpath.hpp"

namespace pcj::detail {

class ComponentImpl;

// The ProtocolHost a protocol module talks to. It forwards to the component while its connection
// is current; once the connection is replaced or closed it turns every call into a no-op.
class HostLink final : public ProtocolHost {
public:
    explicit HostLink(ComponentImpl& impl) : impl_(impl) {}
    const Config& config() const override;
    void send_stream_header() override;
    void send(const Node& node) override;
    std::string request(Node node, Handler on_reply) override;
    void emit(std::string_view event, const Reason* reason = nullptr,
              const Node* node = nullptr) override;
    void emit(std::string_view event, const Payload& payload, const Node* node = nullptr,
              const Reason* reason = nullptr) override;
    bool wanted(std::string_view event) const override;
    void set_jid(std::string jid) override;
    void start_tls() override;
    bool encrypted() const override;
    std::pair<std::string, std::string> channel_binding() const override;
    void ready() override;
    void fail(std::string_view event, Reason reason) override;
    void log(LogLevel level, std::string_view line) override;
    void run_off_loop(std::function<void()> work, std::function<void()> done) override;
    bool current() const override { return active_; }
    void deactivate() { active_ = false; }

private:
    ComponentImpl& impl_;
    bool active_ = true;
};

class ComponentImpl {
public:
    ComponentImpl(Config config, uv_loop_t* loop);
    friend class HostLink;
    ~ComponentImpl();

    // -- public API (see component.hpp) -----------------------------------------------------
    void connect(std::string host, std::uint16_t port);
    void output(Node node);
    void purge_queue();
    std::string return_to_sender(Node node, PendingRequest request,
                                 std::chrono::milliseconds timeout);
    void shutdown(const Reason* why = nullptr);
    void abort(Reason reason);

    // -- for HostLink -----------------------------------------------------------------------
    void send_stream_header();
    void write_node(const Node& node);
    std::string internal_request(Node node, Handler on_reply);
    void emit(std::string_view event, const Reason* reason = nullptr, const Node* node = nullptr);
    // With a typed payload. Build the payload only when wanted(event): it costs allocations.
    void emit(std::string_view event, const Payload& payload, const Node* node = nullptr,
              const Reason* reason = nullptr);
    bool wanted(std::string_view event) const { return events_.wanted(event); }
    void become_ready();
    void start_tls();
    void send_bytes(std::string_view bytes);
    void fail(std::string_view event, Reason reason);
    void log(LogLevel level, std::string_view line);
    Door& door() { return *door_; }

    Config config_;
    PubSub events_;
    std::string sid_;
    std::string jid_;
    std::deque<Node> queue_;
    PendingTable pending_;
    FilterSet filters_;
    State state_ = State::disconnected;
    std::uint64_t id_;
    std::uint64_t connection_id_ = 0; // a new one at every connect()
    Component* owner_ = nullptr;      // the public object, for extensions
    SessionKeeper session_{*this};
    ExtensionSet extensions_;
    std::chrono::steady_clock::time_point last_received_{};
    Logger logger_;
    uv_loop_t* loop_;
    bool owns_loop_;

private:
    // Entry points from libuv callbacks and public calls nest; retired protocol modules are
    // freed only when the outermost one returns, so no module is destroyed under its own feet.
    struct Depth {
        explicit Depth(ComponentImpl& impl);
        ~Depth();
        ComponentImpl& impl;
    };

    void on_connected();
    void on_data(std::string_view bytes);
    void feed_parser(std::string_view bytes);
    void on_transport_failure(const Reason& reason);
    void on_transport_closed();
    void on_stream_start(Node header);
    void on_element(const Node& node);
    void on_stream_end();
    void on_xml_error(const Reason& reason);

    void dispatch_ready(const Node& node);
    void emit_stanza_events(const Node& node);
    bool deliver_reply(const Node& node, bool after_ready);
    void deliver_to_requester(const std::string& id, PendingRequest& request, const Node* reply,
                              const Reason* failure);
    void answer_lost_requests(const char* condition);
    void arm_rts_timer();
    void on_rts_timer();
    void note_quiet_later();
    void on_quiet_timer();

    void retire_protocol();
    void finish_disconnect(bool shutdown_events);
    void close_transport_gracefully();
    template <typename F> void guarded(const char* where, F&& body);
    std::string stream_content_ns() const { return content_ns_; }
    // The stanza itself, or the one its connection type's envelope carries (registry's unwrap).
    const Node& stanza_of(const Node& node) const {
        const Node* inner = unwrap_ != nullptr ? unwrap_(node) : nullptr;
        return inner != nullptr ? *inner : node;
    }

    void on_tls_established();
    void on_tls_failure(const Reason& reason);
    void on_tls_closed();
    bool load_tls_credentials();

    // -- seeds' socket records and connection events (component_events.cpp) ------------------
    // Each returns false when a handler replaced the connection (the caller must stop).
    Transport::Callbacks transport_callbacks();
    bool record(Code code, Source source = Source::socket);
    bool record(SocketRecord& record);
    void on_resolving(const std::string& host);
    void on_resolved(const std::vector<std::string>& addresses);
    void on_connecting(const std::string& address, int family, std::uint16_t port);
    bool announce_connected();
    bool announce_tls_established();
    bool announce_tls_failure(const Reason& reason);
    void on_sent(std::size_t bytes);
    void on_drain();
    bool announce_closed(bool with_disconnect);
    void announce_deleted();
    // Keeps the condition and text for the stream's end, fires xs::ERROR; false when a handler
    // replaced the connection.
    bool on_stream_error(const Node& error);
    void note_lost(const Reason& reason) { lost_reason_ = reason; }

    // Whether anyone listens to the per-read and per-write events, refreshed when the PubSub's
    // subscriptions change: a read or a write costs one comparison when nobody does.
    struct IoEventsWanted {
        std::uint64_t revision = ~std::uint64_t{0};
        bool packet_read = false, read = false, feed = false;
        bool packet_sent = false, write = false, ready_to_write = false;
    };
    const IoEventsWanted& io_wanted() {
        if (events_.revision() != io_events_.revision) {
            refresh_io_wanted();
        }
        return io_events_;
    }
    void refresh_io_wanted();

    const Node* (*unwrap_)(const Node&) = nullptr; // the connection type's envelope, if any
    std::unique_ptr<Transport> transport_;
    // Loaded at the first TLS start (so that the file records reach subscribers), when TLS may
    // be used at all (tls_possible_); checked for readability at construction.
    std::shared_ptr<TlsCredentials> tls_credentials_;
    bool tls_possible_ = false;
    TlsOptions tls_options_;
    std::unique_ptr<TlsSession> tls_;
    std::vector<std::unique_ptr<TlsSession>> retired_tls_;
    std::unique_ptr<XmlStream> xml_;
    std::unique_ptr<HostLink> link_;
    std::unique_ptr<Protocol> protocol_;
    std::vector<std::unique_ptr<Protocol>> retired_protocols_;
    std::vector<std::unique_ptr<HostLink>> retired_links_;
    std::unique_ptr<Timer> negotiation_timer_;
    std::unique_ptr<Timer> shutdown_timer_;
    std::unique_ptr<Timer> rts_timer_;
    // Frees the XML parser once no data has arrived for a while (see note_quiet_later()):
    // made at the first read, re-armed at most once per period, never per read.
    std::unique_ptr<Timer> quiet_timer_;
    bool fed_since_quiet_check_ = false;
    std::unique_ptr<Door> door_;
    std::string last_stream_error_condition_;
    std::string last_stream_error_text_;
    std::string content_ns_;
    std::uint64_t generation_ = 0; // bumped at every connect and disconnect
    int depth_ = 0;
    bool shutdown_events_ = false; // this connection's end goes through SHUTDOWN_* events
    bool closing_ = false;         // transport close requested
    bool stream_error_sent_ = false;
    bool direct_tls_started_ = false;
    std::string write_buffer_; // reused for serialisation

    // seeds' events: the state behind the socket records and connection events.
    IoEventsWanted io_events_;
    Endpoint peer_;                     // the address being tried / connected to
    std::optional<Reason> lost_reason_; // why this connection is ending, if it was lost
    std::uint64_t plain_read_ = 0;      // bytes handed to the parser on this connection
    std::uint64_t plain_written_ = 0;   // bytes written by the component (before TLS)
    std::uint64_t plain_at_drain_ = 0;  // plain_written_ at the last ready_to_write
    std::string_view feeding_;          // the bytes the parser is being fed, for unhandled_xml
    bool name_lookup_ = false;          // the host is a name (not a numeric address)
    bool socket_open_ = false;          // CONNECTED fired, CHANNEL_CLOSED not yet
    bool deleted_owed_ = false;         // connect() started a connection, DELETED not yet
    bool ever_established_ = false;     // a connection of this component reached TCP

    // Whether anyone listens to the per-stanza stream events, refreshed when the PubSub's
    // subscriptions change, so that a stanza costs no lookups when nobody does.
    struct StanzaEventsWanted {
        std::uint64_t revision = ~std::uint64_t{0};
        bool any = false;
        bool node = false, iq = false, message = false, presence = false;
        bool iq_result = false, iq_set = false, iq_get = false, iq_error = false;
    };
    StanzaEventsWanted stanza_events_;
};

template <typename F> void ComponentImpl::guarded(const char* where, F&& body) {
    // Called from libuv and libxml2 callbacks: nothing may propagate into C.
    try {
        Depth depth(*this);
        body();
    } catch (const std::exception& e) {
        log(LogLevel::error,
            std::string("exception escaped a handler in ") + where + ": " + e.what());
    } catch (...) {
        log(LogLevel::error, std::string("unknown exception escaped a handler in ") + where);
    }
}

} // namespace pcj::detail
