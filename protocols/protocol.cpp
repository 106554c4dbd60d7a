// Protocol factory and helpers shared by the connection types.
#include "protocol.hpp"

#include "j14/j14.hpp"
#include "j2/j2.hpp"
#include "legacy/legacy.hpp"
#include "pcj/error.hpp"
#include "xmpp/xmpp.hpp"

namespace pcj::detail {

std::unique_ptr<Protocol> make_protocol(ConnectionType type, ProtocolHost& host) {
    switch (type) {
    case ConnectionType::JABBERD14_COMPONENT:
        return std::make_unique<J14Protocol>(host);
    case ConnectionType::XMPP:
        return std::make_unique<XmppProtocol>(host);
    case ConnectionType::LEGACY:
        return std::make_unique<LegacyProtocol>(host);
    case ConnectionType::JABBERD20_COMPONENT:
        return std::make_unique<J2Protocol>(host);
    }
    throw ConfigError("connection_type: " + std::string(to_string(type)) +
                      " is not implemented in this version of pcj");
}

bool is_stream_error(const Node& node) {
    return node.local_name() == "error" && node.prefix() == "stream";
}

Reason stream_error_reason(const Node& error) {
    Reason reason;
    reason.op = "stream";
    for (const Node* child : error.elements()) {
        if (child->local_name() == "text") {
            reason.text = child->text();
        } else if (reason.condition.empty() && child->ns() == ns_streams) {
            reason.condition = std::string(child->local_name());
        }
    }
    if (reason.condition.empty()) {
        reason.condition = "undefined-condition";
    }
    if (reason.text.empty()) {
        reason.text = "the server sent a stream error: " + reason.condition;
    }
    return reason;
}

} // namespace pcj::detail
