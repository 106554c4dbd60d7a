// ComponentImpl: the parser's stream callbacks — the peer's header, its end, and input it rejected.
#include "component_impl.hpp"

namespace pcj::detail {

void ComponentImpl::on_stream_start(Node header) {
    if (config_.debug) {
        log(LogLevel::debug, "Recd: " + header.start_tag());
    }
    sid_ = header.attr("id");
    const std::uint64_t gen = generation_;
    emit(xs::OPEN, nullptr, &header);
    if (gen != generation_) {
        return;
    }
    session_.on_stream_open(header);
    if (state_ == State::negotiating && protocol_) {
        protocol_->on_stream_start(header);
    }
}

void ComponentImpl::on_stream_end() {
    session_.on_stream_end();
    if (config_.debug) {
        log(LogLevel::debug, "Recd: </stream:stream>");
    }
    const std::uint64_t gen = generation_;
    emit(xs::CLOSED);
    if (gen != generation_) {
        return;
    }
    switch (state_) {
    case State::shutting_down:
        close_transport_gracefully();
        return;
    case State::negotiating:
        if (protocol_) {
            protocol_->on_stream_end();
        }
        break;
    case State::ready: {
        Reason why{"stream", 0,
                   last_stream_error_condition_.empty() ? "peer-closed"
                                                        : last_stream_error_condition_,
                   last_stream_error_text_.empty() ? "the server closed the stream"
                                                   : last_stream_error_text_};
        shutdown(&why);
        break;
    }
    default:
        return;
    }
    if (gen == generation_ && state_ == State::shutting_down) {
        close_transport_gracefully();
    }
}

void ComponentImpl::on_xml_error(const Reason& reason) {
    if (wanted(xs::UNHANDLED_XML)) {
        const std::uint64_t gen = generation_;
        emit(xs::UNHANDLED_XML, Payload(Text{std::string(feeding_)}), nullptr, &reason);
        if (gen != generation_) {
            return;
        }
    }
    if (state_ == State::shutting_down) {
        close_transport_gracefully();
        return;
    }
    if (state_ != State::negotiating && state_ != State::ready) {
        return;
    }
    const State was = state_;
    const std::uint64_t gen = generation_;
    state_ = State::shutting_down;
    shutdown_events_ = false;
    negotiation_timer_->stop();
    note_lost(reason);
    // RFC 6120 §4.9: tell the peer why the stream ends, then close it.
    send_bytes("<stream:error><" + reason.condition +
               " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
               "</stream:stream>");
    stream_error_sent_ = true;
    log(LogLevel::warning, "closing the stream: " + reason.to_string());
    emit(ev::SOCKETFAIL, &reason);
    if (gen != generation_) {
        return;
    }
    if (was == State::negotiating && protocol_) {
        protocol_->on_connection_lost(reason);
        if (gen != generation_) {
            return;
        }
    }
    close_transport_gracefully();
}

} // namespace pcj::detail
