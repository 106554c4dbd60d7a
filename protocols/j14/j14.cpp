// JABBERD14_COMPONENT (XEP-0114) state machine.
#include "j14.hpp"

#include "digest.hpp"
#include "pcj/events.hpp"

namespace pcj::detail {

J14Protocol::J14Protocol(ProtocolHost& host)
    : Negotiation(host, {.peer = "server", .activity = "the handshake", .op = "handshake"}) {}

void J14Protocol::on_stream_start(const Node& header) {
    if (finished()) {
        return;
    }
    if (step_ != Step::header_sent) {
        fail_here("unexpected-stream-start",
                  "the server started a second stream during the handshake");
        return;
    }
    const std::string id = header.attr("id");
    if (id.empty()) {
        fail_here("invalid-id",
                  "the server's stream header carries no id, so no handshake can be made");
        return;
    }
    step_ = Step::handshake_sent;
    if (!announce(ev::AUTHNEGOTIATE)) {
        return; // a handler closed or restarted the connection
    }
    digest_ = handshake_digest(id, host_.config().password);
    Node handshake("handshake");
    handshake.add_text(digest_);
    host_.send(handshake);
}

void J14Protocol::on_element(const Node& node) {
    if (step_ != Step::handshake_sent) {
        return;
    }
    if (node.local_name() != "handshake") {
        fail_here("unexpected-element",
                  "expected <handshake/> from the server, got <" + node.name() + ">");
        return;
    }
    const std::string text = node.text();
    if (!text.empty() && text != digest_) {
        fail_here("invalid-handshake", "the server's <handshake/> carries unexpected content");
        return;
    }
    complete();
    host_.set_jid(host_.config().hostname);
    if (announce(xs::SUCCESS_HANDSHAKE, &node)) {
        succeed(ev::AUTHSUCCESS);
    }
}

std::string_view J14Protocol::step_failure_event() const {
    return ev::AUTHFAIL;
}

PCJ_REGISTER_PROTOCOL(ConnectionType::JABBERD14_COMPONENT, J14Protocol, nullptr)

} // namespace pcj::detail
