// What the four examples share: their common command-line options, the event printer and the
// watchdog that keeps a silent server from hanging an example.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <pcj/pcj.hpp>
#include <uv.h>

namespace example {

// "required", "optional", "disabled" and, where the connection type has it, "direct".
inline pcj::TlsPolicy parse_policy(const std::string& s, bool direct_allowed) {
    if (s == "required") {
        return pcj::TlsPolicy::required;
    }
    if (s == "optional") {
        return pcj::TlsPolicy::optional;
    }
    if (s == "disabled") {
        return pcj::TlsPolicy::disabled;
    }
    if (direct_allowed && s == "direct") {
        return pcj::TlsPolicy::direct;
    }
    throw pcj::ConfigError(direct_allowed ? "--tls: expected required, optional, disabled or direct"
                                          : "--tls: expected required, optional or disabled");
}

// What an example's own option handler did with an argument.
enum class Took { nothing, flag, value };

// Reads the options every example has (--help, --debug, --host, --port, --domain, --user,
// --password, --timeout) into `config` and `timeout_s`, and hands any other to `own` with the
// argument after it (nullptr when there is none), to read into `config`. Returns -1 when the
// options are fine, otherwise the exit code (0 after --help, 2 after an unknown or incomplete
// option).
inline int parse_options(int argc, char** argv, pcj::Config& config, int& timeout_s,
                         void (*usage)(const char*),
                         Took (*own)(pcj::Config&, const std::string&, const char*)) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
        if (arg == "--help" || arg == "-h") {
            usage(argv[0]);
            return 0;
        }
        Took took = Took::value;
        if (arg == "--debug") {
            config.debug = true;
            took = Took::flag;
        } else if (value == nullptr) {
            took = own(config, arg, nullptr);
        } else if (arg == "--host") {
            config.ip = value;
        } else if (arg == "--port") {
            config.port = static_cast<std::uint16_t>(std::atoi(value));
        } else if (arg == "--domain") {
            config.hostname = value;
        } else if (arg == "--user") {
            config.username = value;
        } else if (arg == "--password") {
            config.password = value;
        } else if (arg == "--timeout") {
            timeout_s = std::atoi(value);
        } else {
            took = own(config, arg, value);
        }
        if (took == Took::nothing) {
            std::fprintf(stderr, "unknown or incomplete option: %s\n", arg.c_str());
            usage(argv[0]);
            return 2;
        }
        if (took == Took::value) {
            ++i;
        }
    }
    return -1;
}

// --allow-plaintext, --ca-file and --tls, for the examples that negotiate TLS and SASL; an
// own-option handler asks this first.
inline Took tls_option(pcj::Config& config, const std::string& arg, const char* value,
                       bool direct_allowed) {
    if (arg == "--allow-plaintext") {
        config.sasl.allow_plaintext_password = true;
        return Took::flag;
    }
    if (value == nullptr) {
        return Took::nothing;
    }
    if (arg == "--ca-file") {
        config.tls.ca_file = value;
    } else if (arg == "--tls") {
        config.tls.policy = parse_policy(value, direct_allowed);
    } else {
        return Took::nothing;
    }
    return Took::value;
}

// tls_option's, --resource and --dns-server, for the client examples (XMPP and LEGACY). Without
// --host a client finds its server through the SRV records of --domain (doc/connecting.md).
inline Took client_option(pcj::Config& config, const std::string& arg, const char* value) {
    if (arg == "--resource" && value != nullptr) {
        config.resource = value;
        return Took::value;
    }
    if (arg == "--dns-server" && value != nullptr) { // ADDRESS[:PORT], repeatable
        config.dns.servers.emplace_back(value);
        return Took::value;
    }
    return tls_option(config, arg, value, true);
}

inline std::string show_node(const pcj::Node& node) {
    return node.to_string();
}

// One line for an event: its name, its reason, and its node as `show` writes it (examples
// that send credentials show those elements without their content).
inline std::string describe(const pcj::Event& e,
                            std::string (*show)(const pcj::Node&) = show_node) {
    std::string line(e.name);
    if (e.reason != nullptr) {
        line += " [" + e.reason->to_string() + "]";
    }
    if (e.node != nullptr) {
        line += " " + show(*e.node);
    }
    return line;
}

// Prints every event of `component` as it happens, for as long as the subscription lives.
inline pcj::Subscription print_events(pcj::Component& component,
                                      std::string (*show)(const pcj::Node&) = show_node) {
    return component.subscribe_all(
        [show](const pcj::Event& e) { std::printf("event: %s\n", describe(e, show).c_str()); });
}

// Connects and runs the component's loop until the connection has ended, with a watchdog on
// that loop that shuts the component down after `timeout_s` seconds, so a server that never
// answers cannot hang the example. Unreferenced: the watchdog does not keep the loop alive.
inline void run_with_watchdog(pcj::Component& component, int timeout_s) {
    uv_timer_t watchdog;
    uv_timer_init(component.loop(), &watchdog);
    watchdog.data = &component;
    uv_timer_start(
        &watchdog,
        [](uv_timer_t* t) {
            std::printf("timeout: giving up\n");
            static_cast<pcj::Component*>(t->data)->shutdown();
        },
        static_cast<std::uint64_t>(timeout_s) * 1000, 0);
    uv_unref(reinterpret_cast<uv_handle_t*>(&watchdog));

    component.connect();
    component.run(); // returns once the connection has ended
    uv_close(reinterpret_cast<uv_handle_t*>(&watchdog), nullptr);
    component.run(); // lets the watchdog's close complete
}

} // namespace example
