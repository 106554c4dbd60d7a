// JABBERD14_COMPONENT (XEP-0114) state machine.
#include "j14.hpp"

#include "digest.hpp"
#include "pcj/events.hpp"

namespace pcj::detail {

void J14Protocol::on_connected() {
    host_.send_stream_header();
}

void J14Protocol::on_stream_start(const Node& header) {
    if (state_ != State::header_sent) {
        fail("unexpected-stream-start", "the server started a second stream during the handshake");
        return;
    }
    const std::string id = header.attr("id");
    if (id.empty()) {
        fail("invalid-id", "the server's stream header carries no id, so no handshake can be made");
        return;
    }
    state_ = State::handshake_sent;
    host_.emit(ev::AUTHNEGOTIATE);
    if (state_ != State::handshake_sent) {
        return; // a handler closed or restarted the connection
    }
    digest_ = handshake_digest(id, host_.config().password);
    Node handshake("handshake");
    handshake.add_text(digest_);
    host_.send(handshake);
}

void J14Protocol::on_node(const Node& node) {
    if (state_ != State::handshake_sent) {
        return;
    }
    if (is_stream_error(node)) {
        Reason reason = stream_error_reason(node);
        state_ = State::failed;
        host_.fail(ev::AUTHFAIL, std::move(reason));
        return;
    }
    if (node.local_name() != "handshake") {
        fail("unexpected-element",
             "expected <handshake/> from the server, got <" + node.name() + ">");
        return;
    }
    const std::string text = node.text();
    if (!text.empty() && text != digest_) {
        fail("invalid-handshake", "the server's <handshake/> carries unexpected content");
        return;
    }
    state_ = State::done;
    host_.set_jid(host_.config().hostname);
    host_.emit(xs::SUCCESS_HANDSHAKE, nullptr, &node);
    if (!host_.current()) {
        return;
    }
    host_.emit(ev::AUTHSUCCESS);
    if (state_ != State::done) {
        return;
    }
    host_.ready();
}

void J14Protocol::on_stream_end() {
    fail("stream-closed", "the server closed the stream during the handshake");
}

void J14Protocol::on_connection_lost(const Reason& reason) {
    if (state_ == State::done || state_ == State::failed) {
        return;
    }
    state_ = State::failed;
    Reason copy = reason;
    if (copy.condition.empty()) {
        copy.condition = "connection-lost";
    }
    host_.emit(ev::AUTHFAIL, &copy);
}

void J14Protocol::on_timeout() {
    fail("timeout", "the server did not complete the handshake in time");
}

void J14Protocol::fail(std::string condition, std::string text) {
    if (state_ == State::failed || state_ == State::done) {
        return;
    }
    state_ = State::failed;
    host_.fail(ev::AUTHFAIL, Reason{"handshake", 0, std::move(condition), std::move(text)});
}

PCJ_REGISTER_PROTOCOL(ConnectionType::JABBERD14_COMPONENT, J14Protocol, nullptr)

} // namespace pcj::detail
