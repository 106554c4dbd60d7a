// j14_component: an XEP-0114 external component that sends itself a message and waits for it.
//
// Server setup: a component entry on the server, e.g. Prosody's
//   Component "component.localhost" component_secret = "secret"
// listening on its component port (5347 by default). The server routes a message addressed
// to the component's own domain back to the component, which is the round trip shown here.
//
//   j14_component --host 127.0.0.1 --port 5347 --domain component.localhost --password secret
//
// Prints every event as it happens. Exits 0 only when it reached PCJ_READY, received its own
// message back and shut down cleanly; otherwise prints the failure and exits 1.
#include <cstdio>
#include <string>

#include <pcj/pcj.hpp>

#include "common.hpp"

int main(int argc, char** argv) {
    pcj::Config config;
    config.connection_type = pcj::ConnectionType::JABBERD14_COMPONENT;
    int timeout_s = 20;
    CLI::App app{"An XEP-0114 component: sends itself a message, waits for it, shuts down."};
    example::add_common_options(app, config, timeout_s, true);
    if (const int rc = example::parse(app, argc, argv); rc >= 0) {
        return rc;
    }

    try {
        pcj::Component component(config);
        bool ready = false, echoed = false, finished = false;
        const std::string body = "pcj round trip " + std::to_string(component.id());

        // Print every event, as it happens.
        auto tap = example::print_events(component);

        component.add_filter("echo", "/message[body='" + body + "']");
        auto on_echo = component.subscribe("echo", [&](const pcj::Event&) {
            echoed = true;
            component.shutdown();
        });
        auto on_ready = component.subscribe(pcj::ev::READY, [&](const pcj::Event&) {
            ready = true;
            component.purge_queue();
            component.output(pcj::build("message")
                                 .attr("from", config.hostname)
                                 .attr("to", config.hostname)
                                 .child(pcj::build("body").text(body)));
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
