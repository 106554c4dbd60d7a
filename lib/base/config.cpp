// Config validation and PCJ's per-type defaults.
#include "pcj/config.hpp"

#include <algorithm>
#include <charconv>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "ids.hpp"
#include "pcj/error.hpp"
#include "sasl_mechanisms.hpp"

namespace pcj {

std::string_view to_string(ConnectionType type) {
    switch (type) {
    case ConnectionType::JABBERD14_COMPONENT:
        return "JABBERD14_COMPONENT";
    case ConnectionType::LEGACY:
        return "LEGACY";
    case ConnectionType::JABBERD20_COMPONENT:
        return "JABBERD20_COMPONENT";
    case ConnectionType::XMPP:
        return "XMPP";
    }
    return "unknown";
}

ConnectionType connection_type_from_string(std::string_view text) {
    for (auto type : {ConnectionType::JABBERD14_COMPONENT, ConnectionType::LEGACY,
                      ConnectionType::JABBERD20_COMPONENT, ConnectionType::XMPP}) {
        if (text == to_string(type) || text == std::to_string(static_cast<int>(type))) {
            return type;
        }
    }
    throw ConfigError("connection_type: unknown connection type '" + std::string(text) +
                      "' (expected XMPP, LEGACY, JABBERD14_COMPONENT or JABBERD20_COMPONENT)");
}

std::string_view to_string(QueueFullPolicy policy) {
    return policy == QueueFullPolicy::drop_oldest ? "drop_oldest" : "reject_new";
}

std::string_view to_string(TlsPolicy policy) {
    switch (policy) {
    case TlsPolicy::required:
        return "required";
    case TlsPolicy::optional:
        return "optional";
    case TlsPolicy::disabled:
        return "disabled";
    case TlsPolicy::direct:
        return "direct";
    }
    return "?";
}

namespace {

void require(bool ok, std::string_view field, std::string_view why) {
    if (!ok) {
        throw ConfigError(std::string(field) + ": " + std::string(why));
    }
}

bool has_space_or_control(std::string_view s) {
    for (unsigned char c : s) {
        if (c <= 0x20 || c == 0x7f) {
            return true;
        }
    }
    return false;
}

bool ip_literal(const std::string& s) {
    unsigned char buf[sizeof(in6_addr)];
    return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// A host name as DNS and RFC 7622's domainpart take it: dot-separated labels of 1 to 63 bytes,
// each made of letters, digits, '-' and '_' (not starting or ending with '-'), or bytes of an
// internationalised name in UTF-8; or an IP address, IPv6 in brackets or bare.
bool valid_host_name(std::string_view s) {
    if (s.size() > 2 && s.front() == '[' && s.back() == ']') {
        return ip_literal(std::string(s.substr(1, s.size() - 2)));
    }
    if (s.empty() || s.size() > 253) {
        return ip_literal(std::string(s));
    }
    std::size_t start = 0;
    while (start <= s.size()) {
        const auto dot = std::min(s.find('.', start), s.size());
        const auto label = s.substr(start, dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
            return ip_literal(std::string(s));
        }
        for (unsigned char c : label) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c >= 0x80;
            if (!ok) {
                return ip_literal(std::string(s));
            }
        }
        start = dot + 1;
    }
    return true;
}

// The reason a host name field is refused, or "" when it is fine.
std::string host_name_problem(std::string_view s) {
    if (valid_host_name(s)) {
        return {};
    }
    // Appended rather than "'" + std::string(s) + …: GCC 12 at -O3 reports a false -Wrestrict
    // overlap inside that operator+ (its bug 105329), which a -Werror release build stops at.
    std::string problem = "'";
    problem.append(s);
    problem.append("' is not a valid host name (letters, digits, '-' and '_' in dot-separated "
                   "labels, or an IP address)");
    return problem;
}

bool known_sasl_mechanism(std::string_view name) {
    return std::find(std::begin(detail::known_sasl_mechanisms),
                     std::end(detail::known_sasl_mechanisms),
                     name) != std::end(detail::known_sasl_mechanisms);
}

std::string known_sasl_mechanism_list() {
    std::string out;
    for (auto mech : detail::known_sasl_mechanisms) {
        out += (out.empty() ? "" : ", ") + std::string(mech);
    }
    return out;
}

// RFC 6120 §4.7.5: a stream version is MAJOR.MINOR, each a run of digits.
bool stream_version(std::string_view s) {
    const auto dot = s.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == s.size() || s.size() > 11) {
        return false;
    }
    const auto digits = [](std::string_view part) {
        return part.find_first_not_of("0123456789") == std::string_view::npos;
    };
    return digits(s.substr(0, dot)) && digits(s.substr(dot + 1));
}

// "sha256:" and 64 hexadecimal digits, which may be grouped by colons (as certtool prints them).
bool sha256_pin(std::string_view pin) {
    constexpr std::string_view prefix = "sha256:";
    if (!pin.starts_with(prefix)) {
        return false;
    }
    const auto hex = pin.substr(prefix.size());
    if (hex.find_first_not_of("0123456789abcdefABCDEF:") != std::string_view::npos) {
        return false;
    }
    return hex.size() - static_cast<std::size_t>(std::count(hex.begin(), hex.end(), ':')) == 64;
}

// "ADDRESS", "ADDRESS:PORT" or "[IPV6]:PORT", as the resolver takes a DNS server.
bool dns_server_address(const std::string& text) {
    std::string host = text;
    std::string port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return close != std::string::npos && close + 1 == text.size() &&
                   dns_server_address(text.substr(1, close - 1));
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        host = text.substr(0, text.find(':'));
        port = text.substr(text.find(':') + 1);
    }
    if (!port.empty()) {
        if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
            return false;
        }
        const int n = std::stoi(port);
        if (n < 1 || n > 65535) {
            return false;
        }
    }
    return ip_literal(host);
}

} // namespace

void Config::validate_and_complete() {
    require(connection_type.has_value(), "connection_type",
            "required (XMPP, LEGACY, JABBERD14_COMPONENT or JABBERD20_COMPONENT)");
    const auto type = *connection_type;
    require(type == ConnectionType::XMPP || type == ConnectionType::LEGACY ||
                type == ConnectionType::JABBERD14_COMPONENT ||
                type == ConnectionType::JABBERD20_COMPONENT,
            "connection_type", "not one of PCJ's four connection types");
    const bool client = type == ConnectionType::XMPP || type == ConnectionType::LEGACY;
    require(!ip.empty() || !servers.empty() || client, "ip",
            "required for a component: the host name or address to connect to (or servers)");
    require(ip.empty() || servers.empty(), "servers",
            "give either ip and port or servers, not both");
    if (!ip.empty()) {
        require(host_name_problem(ip).empty(), "ip", host_name_problem(ip));
        require(ip.front() != '[', "ip", "an IPv6 address goes without brackets, e.g. ::1");
    }
    require(port != 0 || ip.empty(), "port", "required: a TCP port between 1 and 65535");
    for (const auto& server : servers) {
        require(!server.host.empty() && !has_space_or_control(server.host), "servers",
                "each server needs a host name or address without spaces");
        require(server.port != 0, "servers",
                "'" + server.host + "' needs a TCP port between 1 and 65535");
    }
    for (const auto& server : dns.servers) {
        require(dns_server_address(server), "dns.servers",
                "'" + server + "' is not ADDRESS or ADDRESS:PORT (e.g. 127.0.0.1:5353, [::1]:53)");
    }
    // c-ares takes the timeout as an int of milliseconds.
    require(dns.timeout.count() > 0 && dns.timeout <= std::chrono::minutes(10), "dns.timeout",
            "must be between 1 ms and 10 minutes");
    require(dns.tries >= 1 && dns.tries <= 10, "dns.tries", "between 1 and 10");
    require(dns.attempt_delay.count() >= 0, "dns.attempt_delay", "must not be negative");
    require(!hostname.empty(), "hostname", "required: the XMPP domain");
    require(host_name_problem(hostname).empty(), "hostname", host_name_problem(hostname));
    const bool needs_user = type != ConnectionType::JABBERD14_COMPONENT;
    if (needs_user) {
        require(!username.empty(), "username",
                std::string("required for ") + std::string(to_string(type)));
    }
    require(!has_space_or_control(username) && username.find_first_of("@/") == std::string::npos,
            "username", "must not contain spaces, control characters, '@' or '/'");
    require(resource.find_first_of("\r\n") == std::string::npos, "resource",
            "must not contain line breaks");
    if (resource.empty()) {
        resource = "pcj-" + detail::random_hex(8);
    }
    require(!alias.empty(), "alias", "must not be empty");
    if (version) {
        require(stream_version(*version), "version",
                "'" + *version +
                    "' is not a stream version MAJOR.MINOR such as 1.0 (or leave it "
                    "unset for the connection type's default)");
    }
    if (xmlns) {
        require(!xmlns->empty() && !has_space_or_control(*xmlns), "xmlns",
                "must be a namespace URI (or leave it unset)");
    }
    require(!stream_ns.empty() && !has_space_or_control(stream_ns), "stream_ns",
            "must be a namespace URI");
    require(connect_timeout.count() >= 0, "connect_timeout", "must not be negative");
    require(negotiation_timeout.count() >= 0, "negotiation_timeout", "must not be negative");
    require(shutdown_timeout.count() >= 0, "shutdown_timeout", "must not be negative");
    require(rts_timeout.count() >= 0, "rts_timeout", "must not be negative");
    require(reconnect.initial_delay.count() > 0, "reconnect.initial_delay", "must be positive");
    require(reconnect.max_delay >= reconnect.initial_delay, "reconnect.max_delay",
            "must be at least reconnect.initial_delay");
    require(reconnect.min_delay.count() >= 0, "reconnect.min_delay", "must not be negative");
    require(reconnect.min_delay <= reconnect.max_delay, "reconnect.min_delay",
            "must not exceed reconnect.max_delay");
    require(reconnect.multiplier >= 1.0 && reconnect.multiplier <= 100.0, "reconnect.multiplier",
            "must be between 1 and 100");
    require(queue.when_full == QueueFullPolicy::reject_new ||
                queue.when_full == QueueFullPolicy::drop_oldest,
            "queue.when_full", "not one of reject_new or drop_oldest");
    require(stream_management.ack_after.count() >= 0, "stream_management.ack_after",
            "must not be negative");
    require(rate_limit.stanzas_per_second >= 0 && rate_limit.stanzas_per_second <= 1e9,
            "rate_limit.stanzas_per_second", "must be between 0 (no limit) and 1e9");
    require(rate_limit.bytes_per_second >= 0 && rate_limit.bytes_per_second <= 1e12,
            "rate_limit.bytes_per_second", "must be between 0 (no limit) and 1e12");
    require(max_stanza_size >= 1024, "max_stanza_size", "must be at least 1024 bytes");
    require(max_depth >= 2, "max_depth", "must be at least 2");
    // A stream header carries about six attributes and declarations.
    require(max_attributes >= 8, "max_attributes", "must be at least 8");
    require(max_namespace_declarations >= 2, "max_namespace_declarations", "must be at least 2");
    require(max_stanza_time.count() >= 0, "max_stanza_time", "must not be negative");
    require(sasl.max_scram_iterations >= 1, "sasl.max_scram_iterations", "must be at least 1");
    require(tls.client_cert_file.empty() == tls.client_key_file.empty(), "tls.client_key_file",
            "a client certificate needs its key, and a key its certificate");
    for (const auto& pin : tls.pins) {
        require(sha256_pin(pin), "tls.pins",
                "'" + pin + "' is not sha256: followed by 64 hexadecimal digits");
    }
    require(tls.policy == TlsPolicy::required || tls.policy == TlsPolicy::optional ||
                tls.policy == TlsPolicy::disabled || tls.policy == TlsPolicy::direct,
            "tls.policy", "not one of required, optional, disabled or direct");
    for (const auto& mech : sasl.mechanisms) {
        if (type == ConnectionType::LEGACY) {
            // LEGACY has no SASL: the list picks jabber:iq:auth's methods.
            require(mech == "DIGEST" || mech == "PLAIN", "sasl.mechanisms",
                    "'" + mech + "' is not a LEGACY login method (DIGEST or PLAIN)");
        } else {
            require(known_sasl_mechanism(mech), "sasl.mechanisms",
                    "'" + mech + "' is not a mechanism pcj offers (" + known_sasl_mechanism_list() +
                        ")");
        }
    }
    require(bind_retries <= 100, "bind_retries", "at most 100");
    require(!roster_fetch || type == ConnectionType::XMPP || type == ConnectionType::LEGACY,
            "roster_fetch", "only XMPP and LEGACY clients have a roster");
    if (type == ConnectionType::JABBERD20_COMPONENT) {
        if (bind_domain.empty()) {
            bind_domain = username + "." + hostname;
        }
        require(host_name_problem(bind_domain).empty(), "bind_domain",
                host_name_problem(bind_domain));
        require(bind_option.empty() || !has_space_or_control(bind_option), "bind_option",
                "must be an element name such as log or default");
    }
}

std::string Config::effective_version() const {
    if (version) {
        return *version;
    }
    switch (connection_type.value_or(ConnectionType::XMPP)) {
    case ConnectionType::XMPP:
    case ConnectionType::JABBERD20_COMPONENT:
        return "1.0";
    case ConnectionType::LEGACY:
        // ejabberd and jabberd2 offer STARTTLS only on a version='1.0' stream: with STARTTLS to
        // be negotiated, ask for one; otherwise PCJ's versionless stream.
        return tls.policy == TlsPolicy::required || tls.policy == TlsPolicy::optional ? "1.0" : "";
    case ConnectionType::JABBERD14_COMPONENT:
        // pcj sends no version on pre-XMPP streams: jabberd2 refuses PCJ's "0.9".
        return "";
    }
    return "";
}

std::string Config::effective_xmlns() const {
    if (xmlns) {
        return *xmlns;
    }
    switch (connection_type.value_or(ConnectionType::XMPP)) {
    case ConnectionType::XMPP:
    case ConnectionType::LEGACY:
        return "jabber:client";
    case ConnectionType::JABBERD14_COMPONENT:
        return "jabber:component:accept";
    case ConnectionType::JABBERD20_COMPONENT:
        return "http://jabberd.jabberstudio.org/ns/component/1.0";
    }
    return "jabber:client";
}

} // namespace pcj
