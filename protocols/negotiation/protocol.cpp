// The registry of connection types, and the feature events every type reports.
#include "protocol.hpp"

#include <array>

#include "pcj/error.hpp"
#include "sasl_exchange.hpp"
#include "starttls.hpp"

namespace pcj::detail {

namespace {
// One slot per ConnectionType value (PCJ numbers them 0, 1, 2 and 4), filled at load time by
// PCJ_REGISTER_PROTOCOL.
std::array<ProtocolEntry, 5>& registry() {
    static std::array<ProtocolEntry, 5> entries{};
    return entries;
}

std::size_t slot(ConnectionType type) {
    return static_cast<std::size_t>(type);
}
} // namespace

bool register_protocol(ConnectionType type, ProtocolEntry entry) {
    registry().at(slot(type)) = entry;
    return true;
}

const ProtocolEntry& protocol_entry(ConnectionType type) {
    const ProtocolEntry& entry = registry().at(slot(type));
    if (entry.make == nullptr) {
        throw ConfigError("connection_type: " + std::string(to_string(type)) +
                          " is not implemented in this version of pcj");
    }
    return entry;
}

std::unique_ptr<Protocol> make_protocol(ConnectionType type, ProtocolHost& host) {
    return protocol_entry(type).make(host);
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
