// j2_component: a jabberd2 router component — STARTTLS, SASL, domain bind — that sends itself a
// message in a <route/> envelope and waits for the router to deliver it back.
//
// Server setup: a jabberd2 router with a component user in router-users.xml, a <pemfile> for
// STARTTLS (or --tls optional --allow-plaintext without one), and an <aci> entry
//   <acl type='bind'><user>NAME</user></acl>
// when NAME binds a domain other than its own user name.
//
//   j2_component --host 127.0.0.1 --port 5347 --domain localhost --user NAME --password SECRET
//                --bind echo.localhost --ca-file ca.pem
//
// Prints every event. Exits 0 only when it reached PCJ_READY, received its own route back and
// shut down cleanly; otherwise 1.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <pcj/pcj.hpp>
#include <uv.h>

namespace {

void usage(const char* argv0) {
    std::printf("usage: %s --host HOST --port PORT --domain DOMAIN --user NAME --password SECRET\n"
                "          [--bind NAME] [--bind-option log|default] [--ca-file FILE]\n"
                "          [--tls required|optional|disabled] [--allow-plaintext]\n"
                "          [--timeout SECONDS] [--debug]\n"
                "  --domain           the router's name (stream 'to', TLS certificate name)\n"
                "  --bind             the domain to bind (default: NAME.DOMAIN)\n"
                "  --bind-option      an option for the bind, e.g. log or default\n"
                "  --ca-file          trust this CA (default: the system trust store)\n"
                "  --tls              TLS policy (default required: STARTTLS or nothing)\n"
                "  --allow-plaintext  allow SASL over an unencrypted stream\n",
                argv0);
}

std::string describe(const pcj::Event& e) {
    std::string line(e.name);
    if (e.reason != nullptr) {
        line += " [" + e.reason->to_string() + "]";
    }
    if (e.node != nullptr) {
        // SASL payloads can carry credentials (PLAIN): show the element, not its content.
        if (e.node->local_name() == "auth") {
            line += " <auth mechanism=\"" + e.node->attr("mechanism") + "\">…</auth>";
        } else if (e.node->local_name() == "response") {
            line += " <response>…</response>";
        } else {
            line += " " + e.node->to_string();
        }
    }
    return line;
}

pcj::TlsPolicy parse_policy(const std::string& s) {
    if (s == "required") {
        return pcj::TlsPolicy::required;
    }
    if (s == "optional") {
        return pcj::TlsPolicy::optional;
    }
    if (s == "disabled") {
        return pcj::TlsPolicy::disabled;
    }
    throw pcj::ConfigError("--tls: expected required, optional or disabled");
}

// Returns -1 when the options are fine, otherwise the exit code.
int parse(int argc, char** argv, pcj::Config& config, int& timeout_s) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--help" || arg == "-h") {
            usage(argv[0]);
            return 0;
        } else if (arg == "--debug") {
            config.debug = true;
        } else if (arg == "--allow-plaintext") {
            config.sasl.allow_plaintext_password = true;
        } else if (arg == "--host" && has_value) {
            config.ip = argv[++i];
        } else if (arg == "--port" && has_value) {
            config.port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
        } else if (arg == "--domain" && has_value) {
            config.hostname = argv[++i];
        } else if (arg == "--user" && has_value) {
            config.username = argv[++i];
        } else if (arg == "--password" && has_value) {
            config.password = argv[++i];
        } else if (arg == "--bind" && has_value) {
            config.bind_domain = argv[++i];
        } else if (arg == "--bind-option" && has_value) {
            config.bind_option = argv[++i];
        } else if (arg == "--ca-file" && has_value) {
            config.tls.ca_file = argv[++i];
        } else if (arg == "--tls" && has_value) {
            config.tls.policy = parse_policy(argv[++i]);
        } else if (arg == "--timeout" && has_value) {
            timeout_s = std::atoi(argv[++i]);
        } else {
            std::fprintf(stderr, "unknown or incomplete option: %s\n", arg.c_str());
            usage(argv[0]);
            return 2;
        }
    }
    return -1;
}

} // namespace

int main(int argc, char** argv) {
    pcj::Config config;
    config.connection_type = pcj::ConnectionType::JABBERD20_COMPONENT;
    int timeout_s = 30;
    try {
        if (const int rc = parse(argc, argv, config, timeout_s); rc >= 0) {
            return rc;
        }
        pcj::Component component(config);
        bool ready = false, echoed = false, finished = false;
        auto tap = component.subscribe_all(
            [](const pcj::Event& e) { std::printf("event: %s\n", describe(e).c_str()); });

        // Routes are in the component protocol's namespace; the stanza inside is jabber:client.
        component.ns_prefix("j2", std::string(pcj::jabberd2_component_ns));
        component.add_filter("echo", "/j2:route/message[body='pcj j2 hello']");
        auto on_echo = component.subscribe("echo", [&](const pcj::Event& e) {
            const auto route = pcj::unwrap_route(*e.node);
            std::printf("route from %s to %s carried: %s\n", route->from.c_str(), route->to.c_str(),
                        route->stanza.to_string().c_str());
            echoed = true;
            component.shutdown();
        });
        auto on_ready = component.subscribe(pcj::ev::READY, [&](const pcj::Event&) {
            ready = true;
            const std::string self = component.jid(); // the bound domain
            std::printf("bound %s\n", self.c_str());
            component.purge_queue();
            pcj::Node message = pcj::build("message")
                                    .attr("from", self)
                                    .attr("to", self)
                                    .child(pcj::build("body").text("pcj j2 hello"));
            component.output(pcj::wrap_route(message, self, self));
        });
        auto on_finish = component.subscribe(pcj::ev::SHUTDOWN_FINISH,
                                             [&](const pcj::Event&) { finished = true; });

        // A watchdog on the component's own loop; unreferenced, so it never keeps it alive.
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
        component.run();
        uv_close(reinterpret_cast<uv_handle_t*>(&watchdog), nullptr);
        component.run();

        const bool ok = ready && echoed && finished;
        std::printf("%s: ready=%d echoed=%d clean_shutdown=%d\n", ok ? "OK" : "FAILED", ready,
                    echoed, finished);
        return ok ? 0 : 1;
    } catch (const pcj::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
