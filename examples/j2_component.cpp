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

} // namespace

int main(int argc, char** argv) {
    pcj::Config config;
    config.connection_type = pcj::ConnectionType::JABBERD20_COMPONENT;
    int timeout_s = 30;
    CLI::App app{"A jabberd2 router component: STARTTLS, SASL, domain bind; sends itself a\n"
                 "message in a <route/> and waits for it. --domain is the router's name."};
    example::add_common_options(app, config, timeout_s, true);
    example::add_tls_options(app, config, false);
    app.add_option("--bind", config.bind_domain, "the domain to bind (default: USER.DOMAIN)");
    app.add_option("--bind-option", config.bind_option, "an option for the bind: log, default");
    if (const int rc = example::parse(app, argc, argv); rc >= 0) {
        return rc;
    }
    try {
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
