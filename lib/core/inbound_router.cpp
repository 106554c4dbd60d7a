// InboundRouter: a received element's way through the core (the order is in the header).
#include "inbound_router.hpp"

#include "event_records.hpp"
#include "extensions.hpp"
#include "lifecycle.hpp"
#include "request_tracker.hpp"
#include "session.hpp"
#include "stream_management.hpp"
#include "xpath.hpp"

namespace pcj::detail {

InboundRouter::InboundRouter(const Config& config, Emitter& emitter, Envelope envelope, Steps steps)
    : config_(config), emitter_(emitter), envelope_(envelope), steps_(steps),
      content_ns_(config.effective_xmlns()), recent_(config.duplicate_window) {}

void InboundRouter::on_stanza(const Node& node) {
    // <stream:error/> is noted (and xs::ERROR fired) in every state, here only: a stanza costs
    // one string comparison.
    if (node.ns() == config_.stream_ns && node.local_name() == "error" &&
        !steps_.records.on_stream_error(node)) {
        return; // a handler replaced the connection
    }
    if (config_.debug) {
        emitter_.log(LogLevel::debug, "Recd: " + node.to_string(content_ns_));
    }
    // XEP-0198 hook: <r/> answered and <a/> settled here, in every state; a
    // stanza is counted as handled and goes on.
    if (sm_ != nullptr && sm_->on_inbound(node)) {
        return;
    }
    // A message seen already (the same from and id): dropped, visibly, before anything else.
    if (recent_.repeat(envelope_.stanza_of(node))) {
        emitter_.emit(un::DUPLICATE_DROPPED, nullptr, &node);
        return;
    }
    if (emitter_.revision() != wanted_.revision || wanted_.any) {
        const Emitter::Token connection = emitter_.token();
        emit_stanza_events(node);
        if (!connection.current()) {
            return;
        }
    }
    switch (steps_.lifecycle.state()) {
    case State::ready:
        route_ready(node);
        return;
    case State::negotiating:
        route_negotiating(node);
        return;
    default:
        return; // shutting down: the rest of the stream is of no interest
    }
}

// The node, iq, message, presence and iq_<type> events (doc/events.md), for every element
// parsed. A jabberd2 <route/> is classified by the stanza it carries.
void InboundRouter::emit_stanza_events(const Node& node) {
    StanzaEventsWanted& w = wanted_;
    if (emitter_.revision() != w.revision) {
        w.revision = emitter_.revision();
        w.node = emitter_.wanted(xs::NODE);
        w.iq = emitter_.wanted(xs::IQ);
        w.message = emitter_.wanted(xs::MESSAGE);
        w.presence = emitter_.wanted(xs::PRESENCE);
        w.iq_result = emitter_.wanted(xs::IQ_RESULT);
        w.iq_set = emitter_.wanted(xs::IQ_SET);
        w.iq_get = emitter_.wanted(xs::IQ_GET);
        w.iq_error = emitter_.wanted(xs::IQ_ERROR);
        w.any = w.node || w.iq || w.message || w.presence || w.iq_result || w.iq_set || w.iq_get ||
                w.iq_error;
    }
    if (!w.any) {
        return;
    }
    if (w.node && !emitter_.emit(xs::NODE, nullptr, &node)) {
        return;
    }
    const Node& stanza = envelope_.stanza_of(node);
    if (stanza.ns() == config_.stream_ns) {
        return; // <stream:features/>, <stream:error/>: not stanzas
    }
    const std::string_view name = stanza.local_name();
    if (name == "iq") {
        if (w.iq && !emitter_.emit(xs::IQ, nullptr, &node)) {
            return;
        }
        const std::string* type = stanza.find_attr("type");
        if (type == nullptr) {
            return;
        }
        if (*type == "result" && w.iq_result) {
            emitter_.emit(xs::IQ_RESULT, nullptr, &node);
        } else if (*type == "set" && w.iq_set) {
            emitter_.emit(xs::IQ_SET, nullptr, &node);
        } else if (*type == "get" && w.iq_get) {
            emitter_.emit(xs::IQ_GET, nullptr, &node);
        } else if (*type == "error" && w.iq_error) {
            emitter_.emit(xs::IQ_ERROR, nullptr, &node);
        }
    } else if (name == "message" && w.message) {
        emitter_.emit(xs::MESSAGE, nullptr, &node);
    } else if (name == "presence" && w.presence) {
        emitter_.emit(xs::PRESENCE, nullptr, &node);
    }
}

void InboundRouter::route_ready(const Node& node) {
    const Node& stanza = envelope_.stanza_of(node);
    // (1) A reply to return_to_sender goes to its requester and no further.
    if (steps_.tracker.take_reply(node, stanza, true, self())) {
        return;
    }
    const Emitter::Token connection = emitter_.token();
    // (2) The session's own traffic (roster pushes), (3) then the extensions' stanzas.
    if (steps_.session.on_inbound(node) || !connection.current()) {
        return;
    }
    if (!steps_.extensions.empty() && owner_ != nullptr) {
        if (steps_.extensions.dispatch(*owner_, node, stanza) || !connection.current()) {
            return;
        }
    }
    // (4) Every matching filter fires its event.
    if (!steps_.filters.empty()) {
        steps_.filters.evaluate(
            node,
            [&](std::string_view event, std::string_view xpath, std::span<const Node> matches) {
                if (!connection.current()) {
                    return;
                }
                Event e;
                e.name = event;
                e.node = &node;
                e.xpath = xpath;
                e.matches = matches;
                emitter_.events().publish(e);
            },
            /*parsed=*/true);
        if (!connection.current()) {
            return;
        }
    }
    // (5) Then PCJ_NODERECEIVED.
    emitter_.emit(ev::NODERECEIVED, nullptr, &node);
}

// Who we are, for the reply check: the bound JID, or the configured domain before binding and
// for the components (whose stanzas carry their own addresses).
std::string_view InboundRouter::self() const {
    const std::string& jid = steps_.lifecycle.jid();
    return jid.empty() ? std::string_view(config_.hostname) : std::string_view(jid);
}

void InboundRouter::route_negotiating(const Node& node) {
    if (steps_.tracker.take_reply(node, envelope_.stanza_of(node), false, self())) {
        return;
    }
    if (node.local_name() == "features" && node.ns() == config_.stream_ns) {
        steps_.session.on_features(node); // roster versioning is announced here
    }
    steps_.lifecycle.negotiate(node);
}

} // namespace pcj::detail
