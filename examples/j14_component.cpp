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
#include <cstdlib>
#include <cstring>
#include <string>

#include <pcj/pcj.hpp>
#include <uv.h>

namespace {

void usage(const char* argv0) {
    std::printf("usage: %s --host HOST --port PORT --domain DOMAIN --password SECRET\n"
                "          [--user NAME] [--ca-file FILE] [--timeout SECONDS] [--debug]\n"
                "  Connects as an XEP-0114 component, sends itself a message, waits for it,\n"
                "  and shuts down. --user and --ca-file are accepted for symmetry with the\n"
                "  other examples; XEP-0114 uses neither.\n",
                argv0);
}

std::string describe(const pcj::Event& e) {
    std::string line(e.name);
    if (e.reason != nullptr) {
        line += " [" + e.reason->to_string() + "]";
    }
    if (e.node != nullptr) {
        line += " " + e.node->to_string();
    }
    return line;
}

} // namespace

int main(int argc, char** argv) {
    pcj::Config config;
    config.connection_type = pcj::ConnectionType::JABBERD14_COMPONENT;
    int timeout_s = 20;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--help" || arg == "-h") {
            usage(argv[0]);
            return 0;
        } else if (arg == "--debug") {
            config.debug = true;
        } else if (arg == "--host" && has_value) {
            config.ip = argv[++i];
        } else if (arg == "--port" && has_value) {
            config.port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
        } else if (arg == "--domain" && has_value) {
            config.hostname = argv[++i];
        } else if (arg == "--password" && has_value) {
            config.password = argv[++i];
        } else if (arg == "--user" && has_value) {
            config.username = argv[++i];
        } else if (arg == "--ca-file" && has_value) {
            ++i; // no TLS on an XEP-0114 stream
        } else if (arg == "--timeout" && has_value) {
            timeout_s = std::atoi(argv[++i]);
        } else {
            std::fprintf(stderr, "unknown or incomplete option: %s\n", arg.c_str());
            usage(argv[0]);
            return 2;
        }
    }

    try {
        pcj::Component component(config);
        bool ready = false, echoed = false, finished = false;
        const std::string body = "pcj round trip " + std::to_string(component.id());

        // Print every event, as it happens.
        auto tap = component.subscribe_all(
            [](const pcj::Event& e) { std::printf("event: %s\n", describe(e).c_str()); });

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

        // A watchdog on the component's own libuv loop, so a server that never answers
        // cannot hang the example. Unreferenced: it does not keep the loop alive by itself.
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
        const bool ok = ready && echoed && finished;
        std::printf("%s: ready=%d echoed=%d clean_shutdown=%d\n", ok ? "OK" : "FAILED", ready,
                    echoed, finished);
        return ok ? 0 : 1;
    } catch (const pcj::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
