// InboundRouter: where a parsed top-level element goes, in one order.
//
//   every element:  debug log; <stream:error/> noted (xs::ERROR); stream management's <r/>
//                   and <a/> taken (StreamManagement); a repeated message dropped
//                   (un::DUPLICATE_DROPPED, Config::duplicate_window); the per-stanza xs::
//                   events (xs::NODE, then xs::IQ / MESSAGE / PRESENCE and xs::IQ_<type>)
//   while READY:    (1) a reply to a tracked request → its requester (RequestTracker), no further
//                   (2) the session's own traffic (roster pushes) → SessionKeeper
//                   (3) the extensions' stanzas → ExtensionSet, until one consumes it
//                   (4) every matching filter fires its event (FilterSet)
//                   (5) PCJ_NODERECEIVED
//   negotiating:    a reply to an internal request → its requester; else <stream:features/> to
//                   the session (roster versioning), then the protocol module (Lifecycle)
//   shutting down:  nothing more
//
// Each step stops the walk when a handler replaced or ended the connection. A new per-stanza
// step goes into this list, here and only here.
#pragma once

#include <cstdint>
#include <string>

#include "emitter.hpp"
#include "envelope.hpp"
#include "pcj/config.hpp"
#include "recent_messages.hpp"
#include "stream_stack.hpp"

namespace pcj {
class Component;
} // namespace pcj

namespace pcj::detail {

class EventRecords;
class ExtensionSet;
class FilterSet;
class Lifecycle;
class RequestTracker;
class SessionKeeper;
class StreamManagement;

class InboundRouter final : public StreamStack::StanzaSink {
public:
    struct Steps {
        EventRecords& records;
        RequestTracker& tracker;
        SessionKeeper& session;
        ExtensionSet& extensions;
        FilterSet& filters;
        Lifecycle& lifecycle;
    };
    InboundRouter(const Config& config, Emitter& emitter, Envelope envelope, Steps steps);

    // The public object extensions are handed (set once it exists).
    void set_owner(Component* owner) { owner_ = owner; }
    // XEP-0198: <r/> and <a/> are stream management's; stanzas are counted.
    void set_stream_management(StreamManagement* sm) { sm_ = sm; }
    void on_stanza(const Node& node) override;

private:
    void emit_stanza_events(const Node& node);
    void route_ready(const Node& node);
    void route_negotiating(const Node& node);
    std::string_view self() const;

    // Whether anyone listens to the per-stanza stream events, refreshed when the PubSub's
    // subscriptions change, so that a stanza costs no lookups when nobody does.
    struct StanzaEventsWanted {
        std::uint64_t revision = ~std::uint64_t{0};
        bool any = false;
        bool node = false, iq = false, message = false, presence = false;
        bool iq_result = false, iq_set = false, iq_get = false, iq_error = false;
    };

    const Config& config_;
    Emitter& emitter_;
    Envelope envelope_;
    Steps steps_;
    Component* owner_ = nullptr;
    StreamManagement* sm_ = nullptr; // XEP-0198
    std::string content_ns_;
    StanzaEventsWanted wanted_;
    RecentMessages recent_; // Config::duplicate_window
};

} // namespace pcj::detail
