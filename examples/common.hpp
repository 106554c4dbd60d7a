// What the four examples share: their common command-line options (CLI11), the event printer and
// the watchdog that keeps a silent server from hanging an example.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <pcj/pcj.hpp>
#include <uv.h>

namespace example {

// The options every example has: --debug, --host, --port, --domain, --user, --password and
// --timeout, read into `config` and `timeout_s` by CLI11, which refuses a bad number naming the
// option (--port 70000: "--port: Value 70000 not in range 1 to 65535") and reports a missing
// one by its name ("--host is required"). `host_required` is false for the clients, which can
// find their server through DNS SRV records.
inline void add_common_options(CLI::App& app, pcj::Config& config, int& timeout_s,
                               bool host_required) {
    app.add_flag("--debug", config.debug, "log every node sent and received");
    auto* host = app.add_option("--host", config.ip, "where the server is");
    auto* port = app.add_option_function<int>(
                        "--port", [&config](int p) { config.port = static_cast<std::uint16_t>(p); },
                        "its port")
                     ->check(CLI::Range(1, 65535));
    if (host_required) {
        host->required();
        port->required();
    } else {
        host->needs(port);
        port->needs(host);
    }
    app.add_option("--domain", config.hostname, "the XMPP domain")->required();
    auto* user = app.add_option("--user", config.username, "the user name");
    if (config.connection_type != pcj::ConnectionType::JABBERD14_COMPONENT) {
        user->required();
    }
    app.add_option("--password", config.password, "the password or secret")->required();
    app.add_option("--timeout", timeout_s, "seconds before giving up")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();
}

// --allow-plaintext, --ca-file and --tls, for the examples that negotiate TLS and SASL.
inline void add_tls_options(CLI::App& app, pcj::Config& config, bool direct_allowed) {
    app.add_flag("--allow-plaintext", config.sasl.allow_plaintext_password,
                 "allow a password over an unencrypted stream");
    app.add_option("--ca-file", config.tls.ca_file, "trust this CA (default: the system's)");
    std::vector<std::string> policies = {"required", "optional", "disabled"};
    if (direct_allowed) {
        policies.emplace_back("direct");
    }
    app.add_option_function<std::string>(
           "--tls",
           [&config](const std::string& p) {
               config.tls.policy = p == "optional"   ? pcj::TlsPolicy::optional
                                   : p == "disabled" ? pcj::TlsPolicy::disabled
                                   : p == "direct"   ? pcj::TlsPolicy::direct
                                                     : pcj::TlsPolicy::required;
           },
           "TLS policy (default required)")
        ->check(CLI::IsMember(policies));
}

// add_tls_options', --resource and --dns-server, for the client examples (XMPP and LEGACY).
inline void add_client_options(CLI::App& app, pcj::Config& config) {
    add_tls_options(app, config, true);
    app.add_option("--resource", config.resource, "the resource (default: generated)");
    app.add_option("--dns-server", config.dns.servers, "ask this DNS server (repeatable)");
}

// Parses the command line: -1 when the example should go on, otherwise its exit code (0 after
// --help, 2 after a bad or missing option, with CLI11's message).
inline int parse(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    return -1;
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
