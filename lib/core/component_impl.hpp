// ComponentImpl: the composition behind pcj::Component — it makes the owners and wires them;
// each owner does one thing (doc/architecture.md draws the way a byte travels through them):
//
//   StreamStack    transport ↔ TLS ↔ XML parser, byte counters, the idle parser's quiet timer
//   EventRecords   socket records and connection events, with their "anyone listening" caches
//   RequestTracker requests awaiting replies (return_to_sender), their timer, lost requests
//   Outbox         the queue and every write of a stanza
//   InboundRouter  a received element's way: reply → session → extensions → filters → NODERECEIVED
//   Lifecycle      state, protocol module + HostLink, negotiation/shutdown timers, the end
//   SessionKeeper  the Session and the roster (through the narrow SessionHost below)
//   Emitter        events and the connection generation; Graveyard: objects retired mid-call
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "door.hpp"
#include "emitter.hpp"
#include "event_records.hpp"
#include "extensions.hpp"
#include "graveyard.hpp"
#include "inbound_router.hpp"
#include "lifecycle.hpp"
#include "outbox.hpp"
#include "pcj/component.hpp"
#include "request_tracker.hpp"
#include "session.hpp"
#include "stream_management.hpp"
#include "stream_stack.hpp"
#include "xpath.hpp"

namespace pcj::detail {

class ComponentImpl final : private SessionHost {
public:
    ComponentImpl(Config config, uv_loop_t* loop);
    ~ComponentImpl();
    ComponentImpl(const ComponentImpl&) = delete;
    ComponentImpl& operator=(const ComponentImpl&) = delete;

    // -- the public API's entries (see component.hpp); each is one entry into the component ---
    void connect(std::string host, std::uint16_t port) {
        lifecycle_.connect(std::move(host), port);
    }
    void output(Node node) override;
    void output(Node node, OutcomeHandler on_outcome);
    void purge_queue();
    std::string return_to_sender(Node node, PendingRequest request,
                                 std::chrono::milliseconds timeout);
    // The application's shutdown(): also stops the reconnect policy. XEP-0198: <r/> before the
    // closing tag, and no resumption after.
    void shutdown(const Reason* why = nullptr) {
        sm_.on_shutdown();
        lifecycle_.shutdown_by_application(why);
    }
    void abort(Reason reason) { lifecycle_.abort(std::move(reason)); }
    // Component::submit() and post(): run on the loop thread, through the Door.
    void submit(Node node);
    void post(Door::Task task);
    void set_owner(Component* owner);
    void wire_stream_management();

    // The owners, in the order they are made (and the reverse of the one they are destroyed in).
    Config config_; // validated; Component::connect(host, port) replaces the address
    std::uint64_t id_;
    bool owns_loop_;
    // The component's own loop, closed by the destructor; or, when a constructor of an owner
    // throws (a ConfigError), by this holder once the owners made so far are gone.
    struct OwnLoop {
        uv_loop_t* loop = nullptr;
        OwnLoop() = default;
        explicit OwnLoop(bool wanted);
        OwnLoop(const OwnLoop&) = delete;
        OwnLoop& operator=(const OwnLoop&) = delete;
        ~OwnLoop();
    } own_loop_;
    uv_loop_t* loop_;
    PubSub events_;
    Emitter emitter_;
    Graveyard graveyard_;
    FilterSet filters_;
    ExtensionSet extensions_;
    EventRecords records_;
    RequestTracker tracker_;
    SessionKeeper session_;
    StreamStack stack_;
    StreamManagement sm_; // XEP-0198: fed by the Outbox and the InboundRouter
    Outbox outbox_;
    InboundRouter router_;
    Lifecycle lifecycle_;
    std::unique_ptr<Door> door_;

private:
    // -- SessionHost ---------------------------------------------------------------------------
    const Config& config() const override { return config_; }
    State state() const override { return lifecycle_.state(); }
    std::uint64_t connection_id() const override { return records_.connection_id(); }
    const std::string& jid() const override { return lifecycle_.jid(); }
    bool awaiting_reply(std::string_view id) const override { return tracker_.awaiting(id); }
    void request(Node node, PendingRequest request) override;
    Emitter& emitter() override { return emitter_; }
};

} // namespace pcj::detail
