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
#include <string>

#include <pcj/pcj.hpp>

#include "common.hpp"

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

// SASL payloads can carry credentials (PLAIN): show the element, not its content.
std::string show(const pcj::Node& node) {
    if (node.local_name() == "auth") {
        return "<auth mechanism=\"" + node.attr("mechanism") + "\">…</auth>";
    }
    if (node.local_name() == "response") {
        return "<response>…</response>";
    }
    return node.to_string();
}

// The options only this example has.
example::Took own_option(pcj::Config& config, const std::string& arg, const char* value) {
    if (const example::Took took = example::tls_option(config, arg, value, false);
        took != example::Took::nothing || value == nullptr) {
        return took;
    }
    if (arg == "--bind") {
        config.bind_domain = value;
    } else if (arg == "--bind-option") {
        config.bind_option = value;
    } else {
        return example::Took::nothing;
    }
    return example::Took::value;
}

} // namespace

int main(int argc, char** argv) {
    pcj::Config config;
    config.connection_type = pcj::ConnectionType::JABBERD20_COMPONENT;
    int timeout_s = 30;
    try {
        if (const int rc = example::parse_options(argc, argv, config, timeout_s, usage, own_option);
            rc >= 0) {
            return rc;
        }
        pcj::Component component(config);
        bool ready = false, echoed = false, finished = false;
        auto tap = example::print_events(component, show);

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

        example::run_with_watchdog(component, timeout_s);

        const bool ok = ready && echoed && finished;
        std::printf("%s: ready=%d echoed=%d clean_shutdown=%d\n", ok ? "OK" : "FAILED", ready,
                    echoed, finished);
        return ok ? 0 : 1;
    } catch (const pcj::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
