// HostLink: a protocol module's calls, forwarded to the owner of each while its connection lasts.
#include "host_link.hpp"

#include "lifecycle.hpp"
#include "outbox.hpp"
#include "session.hpp"
#include "stream_management.hpp"
#include "stream_stack.hpp"

namespace pcj::detail {

void HostLink::send_stream_header() {
    if (active_) {
        lifecycle_.send_stream_header();
    }
}

void HostLink::send(const Node& node) {
    if (active_) {
        parts_.outbox.write(node);
    }
}

std::string HostLink::request(Node node, Handler on_reply) {
    return active_ ? parts_.outbox.request(std::move(node), std::move(on_reply)) : std::string();
}

void HostLink::emit(std::string_view event, const Reason* reason, const Node* node) {
    if (active_) {
        if (event == ev::AUTHSUCCESS) {
            parts_.session.on_authenticated();
        }
        emitter_.emit(event, reason, node);
    }
}

void HostLink::emit(std::string_view event, const Payload& payload, const Node* node,
                    const Reason* reason) {
    if (active_) {
        emitter_.emit(event, payload, node, reason);
    }
}

bool HostLink::wanted(std::string_view event) const {
    return active_ && emitter_.wanted(event);
}

void HostLink::set_jid(std::string jid) {
    if (active_) {
        lifecycle_.set_jid(std::move(jid));
        parts_.session.on_bound(lifecycle_.jid());
    }
}

void HostLink::start_tls() {
    if (active_) {
        parts_.stack.start_tls();
    }
}

bool HostLink::encrypted() const {
    return active_ && parts_.stack.encrypted();
}

std::pair<std::string, std::string> HostLink::channel_binding() const {
    return active_ ? parts_.stack.channel_binding() : std::pair<std::string, std::string>();
}

void HostLink::ready() {
    if (active_) {
        lifecycle_.become_ready();
    }
}

void HostLink::fail(std::string_view event, Reason reason) {
    if (active_) {
        lifecycle_.fail(event, std::move(reason));
    }
}

void HostLink::log(LogLevel level, std::string_view line) {
    emitter_.log(level, line);
}

StreamManagementHost* HostLink::stream_management() {
    return active_ ? &parts_.sm : nullptr;
}

} // namespace pcj::detail
