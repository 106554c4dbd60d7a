// Config from TOML (toml++): one table of setters, one per key, each checking its value's type
// and range and naming the file, line and key when it refuses.
#include "pcj/config_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include <toml++/toml.h>

#include "config_value.hpp"
#include "pcj/error.hpp"

namespace pcj {

namespace {

using detail::server_address;
using detail::Value;

using Setter = void (*)(const Value&, Config&);

constexpr std::int64_t u32_max = std::numeric_limits<std::uint32_t>::max();
constexpr std::int64_t size_max = std::numeric_limits<std::int64_t>::max();

ConnectionType connection_type(const Value& v) {
    const std::string s = v.str();
    static const std::map<std::string, ConnectionType, std::less<>> short_names = {
        {"xmpp", ConnectionType::XMPP},
        {"legacy", ConnectionType::LEGACY},
        {"j14", ConnectionType::JABBERD14_COMPONENT},
        {"j2", ConnectionType::JABBERD20_COMPONENT},
    };
    if (const auto it = short_names.find(s); it != short_names.end()) {
        return it->second;
    }
    try {
        return connection_type_from_string(s);
    } catch (const ConfigError&) {
        v.fail("unknown connection type '" + s +
               "' (expected xmpp, legacy, j14, j2 or PCJ's XMPP, LEGACY, JABBERD14_COMPONENT, "
               "JABBERD20_COMPONENT)");
    }
}

TlsPolicy tls_policy(const Value& v) {
    const std::string s = v.str();
    for (auto p :
         {TlsPolicy::required, TlsPolicy::optional, TlsPolicy::disabled, TlsPolicy::direct}) {
        if (s == to_string(p)) {
            return p;
        }
    }
    v.fail("expected required, optional, disabled or direct, not '" + s + "'");
}

QueueFullPolicy when_full(const Value& v) {
    const std::string s = v.str();
    for (auto p : {QueueFullPolicy::reject_new, QueueFullPolicy::drop_oldest}) {
        if (s == to_string(p)) {
            return p;
        }
    }
    v.fail("expected reject_new or drop_oldest, not '" + s + "'");
}

// "user@domain/resource" sets username, hostname and resource (each part that is present).
void set_jid(const Value& v, Config& c) {
    const std::string jid = v.non_empty();
    const auto at = jid.find('@');
    const auto slash = jid.find('/', at == std::string::npos ? 0 : at);
    if (at == 0 || at == jid.size() - 1 || slash == 0 ||
        (at != std::string::npos && slash == at + 1)) {
        v.fail("'" + jid + "' is not a JID (user@domain or user@domain/resource)");
    }
    const auto domain_start = at == std::string::npos ? 0 : at + 1;
    if (at != std::string::npos) {
        c.username = jid.substr(0, at);
    }
    c.hostname = jid.substr(domain_start,
                            slash == std::string::npos ? std::string::npos : slash - domain_start);
    if (slash != std::string::npos) {
        c.resource = jid.substr(slash + 1);
    }
}

// Every key the file may hold, by its full dotted name.
const std::map<std::string, Setter, std::less<>>& setters() {
    static const std::map<std::string, Setter, std::less<>> table = {
        // PCJ's constructor arguments
        {"ip",
         [](const Value& v, Config& c) {
             c.ip = v.str();
         }},
        {"servers",
         [](const Value& v, Config& c) {
             c.servers.clear();
             for (const std::string& entry : v.strings()) {
                 c.servers.push_back(server_address(v, entry));
             }
         }},
        {"shuffle_servers",
         [](const Value& v, Config& c) {
             c.shuffle_servers = v.boolean();
         }},
        {"port",
         [](const Value& v, Config& c) {
             c.port = static_cast<std::uint16_t>(v.integer(1, 65535));
         }},
        {"hostname",
         [](const Value& v, Config& c) {
             c.hostname = v.str();
         }},
        {"username",
         [](const Value& v, Config& c) {
             c.username = v.str();
         }},
        {"password",
         [](const Value& v, Config& c) {
             c.password = v.str();
         }},
        {"resource",
         [](const Value& v, Config& c) {
             c.resource = v.str();
         }},
        {"jid", set_jid},
        {"alias",
         [](const Value& v, Config& c) {
             c.alias = v.non_empty();
         }},
        {"connection_type",
         [](const Value& v, Config& c) {
             c.connection_type = connection_type(v);
         }},
        {"version",
         [](const Value& v, Config& c) {
             c.version = v.str();
         }},
        {"xmlns",
         [](const Value& v, Config& c) {
             c.xmlns = v.non_empty();
         }},
        {"stream_ns",
         [](const Value& v, Config& c) {
             c.stream_ns = v.non_empty();
         }},
        {"debug",
         [](const Value& v, Config& c) {
             c.debug = v.boolean();
         }},
        {"bind_retries",
         [](const Value& v, Config& c) {
             c.bind_retries = static_cast<unsigned>(v.integer(0, 100));
         }},
        {"roster_fetch",
         [](const Value& v, Config& c) {
             c.roster_fetch = v.boolean();
         }},
        {"bind_domain",
         [](const Value& v, Config& c) {
             c.bind_domain = v.str();
         }},
        {"bind_option",
         [](const Value& v, Config& c) {
             c.bind_option = v.str();
         }},
        // timeouts
        {"connect_timeout",
         [](const Value& v, Config& c) {
             c.connect_timeout = v.millis();
         }},
        {"negotiation_timeout",
         [](const Value& v, Config& c) {
             c.negotiation_timeout = v.millis();
         }},
        {"shutdown_timeout",
         [](const Value& v, Config& c) {
             c.shutdown_timeout = v.millis();
         }},
        {"rts_timeout",
         [](const Value& v, Config& c) {
             c.rts_timeout = v.millis();
         }},
        {"duplicate_window",
         [](const Value& v, Config& c) {
             c.duplicate_window = static_cast<std::size_t>(v.integer(0, 10'000'000));
         }},
        // limits
        {"max_stanza_size",
         [](const Value& v, Config& c) {
             c.max_stanza_size = static_cast<std::size_t>(v.integer(1024, size_max));
         }},
        {"max_depth",
         [](const Value& v, Config& c) {
             c.max_depth = static_cast<std::size_t>(v.integer(2, 100000));
         }},
        {"max_attributes",
         [](const Value& v, Config& c) {
             c.max_attributes = static_cast<std::size_t>(v.integer(8, 100000));
         }},
        {"max_namespace_declarations",
         [](const Value& v, Config& c) {
             c.max_namespace_declarations = static_cast<std::size_t>(v.integer(2, 100000));
         }},
        {"max_stanza_time",
         [](const Value& v, Config& c) {
             c.max_stanza_time = v.millis();
         }},
        // [tls]
        {"tls.policy",
         [](const Value& v, Config& c) {
             c.tls.policy = tls_policy(v);
         }},
        {"tls.verify",
         [](const Value& v, Config& c) {
             c.tls.verify = v.boolean();
         }},
        {"tls.ca_file",
         [](const Value& v, Config& c) {
             c.tls.ca_file = v.path();
         }},
        {"tls.ca_dir",
         [](const Value& v, Config& c) {
             c.tls.ca_dir = v.path();
         }},
        {"tls.pins",
         [](const Value& v, Config& c) {
             c.tls.pins = v.strings();
         }},
        {"tls.client_cert_file",
         [](const Value& v, Config& c) {
             c.tls.client_cert_file = v.path();
         }},
        {"tls.client_key_file",
         [](const Value& v, Config& c) {
             c.tls.client_key_file = v.path();
         }},
        {"tls.priority",
         [](const Value& v, Config& c) {
             c.tls.priority = v.str();
         }},
        // [sasl]
        {"sasl.mechanisms",
         [](const Value& v, Config& c) {
             c.sasl.mechanisms = v.strings();
         }},
        {"sasl.authzid",
         [](const Value& v, Config& c) {
             c.sasl.authzid = v.str();
         }},
        {"sasl.allow_plaintext_password",
         [](const Value& v, Config& c) {
             c.sasl.allow_plaintext_password = v.boolean();
         }},
        {"sasl.max_scram_iterations",
         [](const Value& v, Config& c) {
             c.sasl.max_scram_iterations = static_cast<std::uint32_t>(v.integer(1, u32_max));
         }},
        // [dns]
        {"dns.servers",
         [](const Value& v, Config& c) {
             c.dns.servers = v.strings();
         }},
        {"dns.timeout",
         [](const Value& v, Config& c) {
             c.dns.timeout = v.millis();
         }},
        {"dns.tries",
         [](const Value& v, Config& c) {
             c.dns.tries = static_cast<unsigned>(v.integer(1, 10));
         }},
        {"dns.attempt_delay",
         [](const Value& v, Config& c) {
             c.dns.attempt_delay = v.millis();
         }},
        // [reconnect]
        {"reconnect.enabled",
         [](const Value& v, Config& c) {
             c.reconnect.enabled = v.boolean();
         }},
        {"reconnect.initial_delay",
         [](const Value& v, Config& c) {
             c.reconnect.initial_delay = v.millis();
         }},
        {"reconnect.min_delay",
         [](const Value& v, Config& c) {
             c.reconnect.min_delay = v.millis();
         }},
        {"reconnect.max_delay",
         [](const Value& v, Config& c) {
             c.reconnect.max_delay = v.millis();
         }},
        {"reconnect.multiplier",
         [](const Value& v, Config& c) {
             c.reconnect.multiplier = v.number(1.0, 100.0);
         }},
        {"reconnect.max_attempts",
         [](const Value& v, Config& c) {
             c.reconnect.max_attempts = static_cast<unsigned>(v.integer(0, u32_max));
         }},
        // [stream_management]
        {"stream_management.enabled",
         [](const Value& v, Config& c) {
             c.stream_management.enabled = v.boolean();
         }},
        {"stream_management.resume",
         [](const Value& v, Config& c) {
             c.stream_management.resume = v.boolean();
         }},
        {"stream_management.ack_every",
         [](const Value& v, Config& c) {
             c.stream_management.ack_every = static_cast<unsigned>(v.integer(0, u32_max));
         }},
        {"stream_management.ack_after",
         [](const Value& v, Config& c) {
             c.stream_management.ack_after = v.millis();
         }},
        // [queue]
        {"queue.max_stanzas",
         [](const Value& v, Config& c) {
             c.queue.max_stanzas = static_cast<std::size_t>(v.integer(0, size_max));
         }},
        {"queue.max_bytes",
         [](const Value& v, Config& c) {
             c.queue.max_bytes = static_cast<std::size_t>(v.integer(0, size_max));
         }},
        {"queue.when_full",
         [](const Value& v, Config& c) {
             c.queue.when_full = when_full(v);
         }},
        {"queue.flush_at_ready",
         [](const Value& v, Config& c) {
             c.queue.flush_at_ready = v.boolean();
         }},
        // [rate_limit]
        {"rate_limit.stanzas_per_second",
         [](const Value& v, Config& c) {
             c.rate_limit.stanzas_per_second = v.number(0, 1e9);
         }},
        {"rate_limit.bytes_per_second",
         [](const Value& v, Config& c) {
             c.rate_limit.bytes_per_second = v.number(0, 1e12);
         }},
    };
    return table;
}

bool is_section(std::string_view name) {
    static constexpr std::string_view sections[] = {
        "tls", "sasl", "dns", "reconnect", "queue", "rate_limit", "stream_management"};
    return std::find(std::begin(sections), std::end(sections), name) != std::end(sections);
}

struct Source {
    std::string_view name; // the file, for messages
    std::string base_dir;  // where relative paths start ("" to keep them as written)
};

// Applies one table of keys (the top level or a profile) to `config`. `prefix` is "" at the
// top level and "profile.NAME." inside a profile, for the key names in messages.
void apply(const toml::table& table, const std::string& prefix, const Source& src, Config& config) {
    for (const auto& [key, node] : table) {
        const std::string name(key.str());
        if (prefix.empty() && name == "profile") {
            continue; // profiles are applied on their own
        }
        if (is_section(name)) {
            if (!node.is_table()) {
                Value(node, prefix + name, src.name, src.base_dir)
                    .fail("expected a table ([" + name + "] or " + name + ".KEY = ...)");
            }
            for (const auto& [sub_key, sub_node] : *node.as_table()) {
                const std::string full = name + "." + std::string(sub_key.str());
                const Value value(sub_node, prefix + full, src.name, src.base_dir);
                const auto it = setters().find(full);
                if (it == setters().end()) {
                    value.fail("unknown key");
                }
                it->second(value, config);
            }
            continue;
        }
        const Value value(node, prefix + name, src.name, src.base_dir);
        const auto it = setters().find(name);
        if (it == setters().end()) {
            value.fail(node.is_table() ? "unknown table" : "unknown key");
        }
        it->second(value, config);
    }
}

toml::table parse_toml(std::string_view text, std::string_view source) {
    try {
        return toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        throw ConfigError(std::string(source) + ":" + std::to_string(e.source().begin.line) + ":" +
                          std::to_string(e.source().begin.column) +
                          ": bad TOML: " + std::string(e.description()));
    }
}

// The [profile] table, checked: every entry must be a table.
const toml::table* profiles_of(const toml::table& root, std::string_view source) {
    const toml::node* node = root.get("profile");
    if (node == nullptr) {
        return nullptr;
    }
    if (!node->is_table()) {
        Value(*node, "profile", source, {}).fail("expected tables [profile.NAME]");
    }
    for (const auto& [name, entry] : *node->as_table()) {
        if (!entry.is_table()) {
            Value(entry, "profile." + std::string(name.str()), source, {})
                .fail("expected a table [profile." + std::string(name.str()) + "]");
        }
    }
    return node->as_table();
}

std::vector<std::string> profile_names(const toml::table* profiles) {
    std::vector<std::pair<std::uint32_t, std::string>> named;
    if (profiles != nullptr) {
        for (const auto& [name, entry] : *profiles) {
            named.emplace_back(entry.source().begin.line, std::string(name.str()));
        }
    }
    std::sort(named.begin(), named.end());
    std::vector<std::string> out;
    for (auto& n : named) {
        out.push_back(std::move(n.second));
    }
    return out;
}

Config from_table(const toml::table& root, const Source& src, std::string_view profile) {
    const toml::table* profiles = profiles_of(root, src.name);
    Config config;
    apply(root, "", src, config);
    // Every profile is checked, the ones not asked for too: a typo shows up at once.
    if (profiles != nullptr) {
        for (const auto& [name, entry] : *profiles) {
            Config scratch;
            apply(*entry.as_table(), "profile." + std::string(name.str()) + ".", src, scratch);
        }
    }
    if (profile.empty()) {
        return config;
    }
    const toml::node* chosen = profiles != nullptr ? profiles->get(profile) : nullptr;
    if (chosen == nullptr) {
        std::string known;
        for (const auto& name : profile_names(profiles)) {
            known += (known.empty() ? "" : ", ") + name;
        }
        throw ConfigError(
            std::string(src.name) + ": profile." + std::string(profile) + ": no such profile (" +
            (known.empty() ? std::string("the file defines none") : "defined: " + known) + ")");
    }
    apply(*chosen->as_table(), "profile." + std::string(profile) + ".", src, config);
    return config;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError(path + ": cannot read: " + std::strerror(errno));
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        throw ConfigError(path + ": cannot read: " + std::strerror(errno));
    }
    return text.str();
}

} // namespace

Config parse_config(std::string_view toml, std::string_view source, std::string_view profile) {
    return from_table(parse_toml(toml, source), Source{source, {}}, profile);
}

Config load_config(const std::string& path, std::string_view profile) {
    const std::string text = read_file(path);
    const std::string dir = std::filesystem::absolute(path).parent_path().string();
    return from_table(parse_toml(text, path), Source{path, dir}, profile);
}

std::vector<std::string> config_profiles(const std::string& path) {
    const toml::table root = parse_toml(read_file(path), path);
    return profile_names(profiles_of(root, path));
}

} // namespace pcj
