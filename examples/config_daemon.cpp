// config_daemon: a small responder whose connection — any of the four types — comes from a
// config file (pcj::load_config), so one program serves a client account or a component
// depending on the deployment. It echoes every message with a body back to its sender, answers
// XEP-0199 pings and XEP-0030 disco#info (pcj's Ping and Disco extensions), and runs until
// SIGINT or SIGTERM, then closes its stream cleanly and exits 0.
//
// Server setup: whatever the profile names, e.g. for Prosody's component port
//   [profile.echo]
//   connection_type = "j14"
//   ip = "127.0.0.1"
//   port = 5347
//   hostname = "component.localhost"
//   password = "secret"        # or leave it out and set PCJ_PASSWORD
//
//   config_daemon --config pcj.toml --profile echo
//
// Prints "ready as JID" at PCJ_READY and one line per echo. Exits 1 when the connection fails
// or ends by itself, 2 for a bad option or config file.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <pcj/pcj.hpp>
#include <uv.h>

namespace {

// The echo of `message`: to its sender, from the address it was sent to.
pcj::Node echo_of(const pcj::Node& message) {
    return pcj::build("message")
        .attr("to", message.attr("from"))
        .attr("from", message.attr("to"))
        .attr("type", message.has_attr("type") ? message.attr("type") : "normal")
        .child(pcj::build("body").text(message.child("body")->text()));
}

} // namespace

int main(int argc, char** argv) {
    std::string file;
    std::string profile;
    CLI::App app{"A responder (echo, ping, disco) whose connection comes from a config file."};
    app.add_option("--config", file, "the TOML config file")->required()->check(CLI::ExistingFile);
    app.add_option("--profile", profile, "the [profile.NAME] to use (default: the top level)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }

    try {
        pcj::Config config = pcj::load_config(file, profile);
        if (const char* env = std::getenv("PCJ_PASSWORD"); config.password.empty() && env) {
            config.password = env;
        }
        const bool j2 = config.connection_type == pcj::ConnectionType::JABBERD20_COMPONENT;
        const bool client = config.connection_type == pcj::ConnectionType::XMPP ||
                            config.connection_type == pcj::ConnectionType::LEGACY;
        pcj::Component component(config);
        component.attach(std::make_shared<pcj::Ping>());
        auto disco = std::make_shared<pcj::Disco>();
        component.attach(disco);

        bool ready = false, stopping = false;
        auto on_ready = component.subscribe(pcj::ev::READY, [&](const pcj::Event&) {
            ready = true;
            std::printf("ready as %s\n", component.jid().empty() ? config.hostname.c_str()
                                                                 : component.jid().c_str());
            std::fflush(stdout);
            component.purge_queue();
            if (client) {
                component.output(pcj::build("presence")); // available: messages reach us
            }
        });
        // Messages with a body; a jabberd2 component sees them inside <route/>.
        component.ns_prefix("j2", std::string(pcj::jabberd2_component_ns));
        component.add_filter("echo", j2 ? "/j2:route/message[body]" : "/message[body]");
        auto on_echo = component.subscribe("echo", [&](const pcj::Event& e) {
            if (j2) {
                const auto route = pcj::unwrap_route(*e.node);
                component.output(pcj::wrap_route(echo_of(route->stanza), route->to, route->from));
            } else if (e.node->attr("type") != "error") {
                component.output(echo_of(*e.node));
            }
            std::printf("echoed to %s\n", e.node->attr("from").c_str());
            std::fflush(stdout);
        });
        auto on_fail = component.subscribe_all([&](const pcj::Event& e) {
            if (e.reason != nullptr && !stopping) {
                std::fprintf(stderr, "%s: %s\n", std::string(e.name).c_str(),
                             e.reason->to_string().c_str());
            }
        });

        // SIGINT and SIGTERM close the stream cleanly; unreferenced, they do not keep the loop.
        uv_signal_t signals[2];
        for (int i = 0; i < 2; ++i) {
            uv_signal_init(component.loop(), &signals[i]);
            signals[i].data = &component;
            uv_signal_start(
                &signals[i],
                [](uv_signal_t* s, int) { static_cast<pcj::Component*>(s->data)->shutdown(); },
                i == 0 ? SIGINT : SIGTERM);
            uv_unref(reinterpret_cast<uv_handle_t*>(&signals[i]));
        }
        bool clean = false;
        auto on_finish = component.subscribe(pcj::ev::SHUTDOWN_FINISH, [&](const pcj::Event&) {
            clean = true;
            stopping = true;
        });

        component.connect();
        component.run(); // until the connection ends
        for (auto& s : signals) {
            uv_close(reinterpret_cast<uv_handle_t*>(&s), nullptr);
        }
        uv_run(component.loop(), UV_RUN_NOWAIT); // lets the closes complete
        return ready && clean ? 0 : 1;
    } catch (const pcj::ConfigError& e) {
        std::fprintf(stderr, "config_daemon: %s\n", e.what());
        return 2;
    } catch (const pcj::Error& e) {
        std::fprintf(stderr, "config_daemon: %s\n", e.what());
        return 1;
    }
}
