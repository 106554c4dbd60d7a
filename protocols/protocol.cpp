// Protocol factory and helpers shared by the connection types.
#include "protocol.hpp"

#include "j14/j14.hpp"
#include "j2/j2.hpp"
#include "legacy/legacy.hpp"
#include "pcj/error.hpp"
#include "sasl_exchange.hpp"
#include "starttls.hpp"
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

namespace {
constexpr std::string_view ns_bind = "urn:ietf:params:xml:ns:xmpp-bind";
constexpr std::string_view ns_register = "http://jabber.org/features/iq-register";

void report_mechanisms(ProtocolHost& host, const Node& mechanisms) {
    if (!host.wanted(xs::SASL_SUPPORT)) {
        return;
    }
    Mechanisms offered;
    for (const Node* m : mechanisms.elements()) {
        if (m->local_name() == "mechanism") {
            offered.names.push_back(m->text());
        }
    }
    host.emit(xs::SASL_SUPPORT, Payload(std::move(offered)), &mechanisms);
}
} // namespace

bool report_features(ProtocolHost& host, const Node& features) {
    for (const Node* feature : features.elements()) {
        if (!host.current()) {
            return false;
        }
        const auto name = feature->local_name();
        const std::string& ns = feature->ns();
        if (name == "starttls" && ns == ns_tls) {
            host.emit(xs::START_TLS, nullptr, feature);
        } else if (name == "mechanisms" && ns == ns_sasl) {
            report_mechanisms(host, *feature);
        } else if (name == "bind" && ns == ns_bind) {
            host.emit(xs::BIND_SUPPORT, nullptr, feature);
        } else if (name == "register" && ns == ns_register) {
            host.emit(xs::USER_REGISTRATION, nullptr, feature);
        }
    }
    return host.current();
}

} // namespace pcj::detail
