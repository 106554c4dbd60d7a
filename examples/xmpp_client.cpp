// xmpp_client: an RFC 6120 client — STARTTLS with a verified certificate, SASL, bind — that
// sends itself a message, asks its server for disco#info, and shuts down.
//
// Server setup: any XMPP server with an account, e.g. Prosody with
//   VirtualHost "localhost"   (and a certificate for it, trusted through --ca-file)
//
//   xmpp_client --host 127.0.0.1 --port 5222 --domain localhost --user alice
//               --password secret --ca-file ca.pem
//
// Prints every event as it happens. Exits 0 only when it reached PCJ_READY, received its own
// message back, got the server's disco#info answer and shut down cleanly; otherwise 1.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <pcj/pcj.hpp>
#include <uv.h>

namespace {

void usage(const char* argv0) {
    std::printf(
        "usage: %s --host HOST --port PORT --domain DOMAIN --user NAME --password PASS\n"
        "          [--ca-file FILE] [--resource RES] [--tls required|optional|disabled|direct]\n"
        "          [--mechanism NAME]... [--allow-plaintext] [--timeout SECONDS] [--debug]\n"
        "  --ca-file          trust this CA (default: the system trust store)\n"
        "  --tls              TLS policy (default required: STARTTLS or nothing)\n"
        "  --mechanism        allow only these SASL mechanisms (repeatable)\n"
        "  --allow-plaintext  allow a password over an unencrypted stream\n",
        argv0);
}

std::string describe(const pcj::Event& e) {
    std::string line(e.name);
    if (e.reason != nullptr) {
        line += " [" + e.reason->to_string() + "]";
    }
    if (e.node != nullptr) {
        // SASL payloads can carry credentials (PLAIN): show the element, not its content.
        if (e.node->local_name() == "auth" || e.node->local_name() == "response") {
            line += " <" + e.node->name() + " mechanism=\"" + e.node->attr("mechanism") + "\">…</" +
                    e.node->name() + ">";
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
    if (s == "direct") {
        return pcj::TlsPolicy::direct;
    }
    throw pcj::ConfigError("--tls: expected required, optional, disabled or direct");
}

} // namespace

int main(int argc, char** argv) {
    pcj::Config config;
    config.connection_type = pcj::ConnectionType::XMPP;
    int timeout_s = 30;
    try {
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
            } else if (arg == "--resource" && has_value) {
                config.resource = argv[++i];
            } else if (arg == "--ca-file" && has_value) {
                config.tls.ca_file = argv[++i];
            } else if (arg == "--tls" && has_value) {
                config.tls.policy = parse_policy(argv[++i]);
            } else if (arg == "--mechanism" && has_value) {
                config.sasl.mechanisms.emplace_back(argv[++i]);
            } else if (arg == "--timeout" && has_value) {
                timeout_s = std::atoi(argv[++i]);
            } else {
                std::fprintf(stderr, "unknown or incomplete option: %s\n", arg.c_str());
                usage(argv[0]);
                return 2;
            }
        }

        pcj::Component client(config);
        bool ready = false, echoed = false, disco = false, finished = false;
        auto tap = client.subscribe_all(
            [](const pcj::Event& e) { std::printf("event: %s\n", describe(e).c_str()); });

        client.add_filter("echo", "/message[body='pcj says hello']");
        auto on_echo = client.subscribe("echo", [&](const pcj::Event&) {
            echoed = true;
            // Ask the server what it supports; the reply comes back to this callback only.
            pcj::Node iq = pcj::build("iq")
                               .attr("type", "get")
                               .attr("to", config.hostname)
                               .child(pcj::build("query", "http://jabber.org/protocol/disco#info"));
            client.return_to_sender(
                iq,
                [&](const pcj::Event& reply) {
                    disco = reply.node != nullptr && reply.node->attr("type") == "result";
                    client.shutdown();
                },
                std::chrono::seconds(10));
        });
        auto on_ready = client.subscribe(pcj::ev::READY, [&](const pcj::Event&) {
            ready = true;
            std::printf("bound as %s\n", client.jid().c_str());
            client.purge_queue();
            client.output(pcj::build("message")
                              .attr("to", client.jid())
                              .attr("type", "chat")
                              .child(pcj::build("body").text("pcj says hello")));
        });
        auto on_finish =
            client.subscribe(pcj::ev::SHUTDOWN_FINISH, [&](const pcj::Event&) { finished = true; });

        // A watchdog on the component's own loop; unreferenced, so it never keeps it alive.
        uv_timer_t watchdog;
        uv_timer_init(client.loop(), &watchdog);
        watchdog.data = &client;
        uv_timer_start(
            &watchdog,
            [](uv_timer_t* t) {
                std::printf("timeout: giving up\n");
                static_cast<pcj::Component*>(t->data)->shutdown();
            },
            static_cast<std::uint64_t>(timeout_s) * 1000, 0);
        uv_unref(reinterpret_cast<uv_handle_t*>(&watchdog));

        client.connect();
        client.run();
        uv_close(reinterpret_cast<uv_handle_t*>(&watchdog), nullptr);
        client.run();

        const bool ok = ready && echoed && disco && finished;
        std::printf("%s: ready=%d echoed=%d disco=%d clean_shutdown=%d\n", ok ? "OK" : "FAILED",
                    ready, echoed, disco, finished);
        return ok ? 0 : 1;
    } catch (const pcj::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
