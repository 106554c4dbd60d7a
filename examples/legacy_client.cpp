// legacy_client: a pre-XMPP client that logs in with jabber:iq:auth (XEP-0078) — STARTTLS when
// the server offers it, <digest/> when the server supports it — and sends itself a message.
//
// Server setup: any server with iq:auth enabled and an account, e.g. ejabberd with
// mod_legacy_auth, jabberd2's c2s, or Prosody with mod_legacyauth (Prosody has no <digest/>:
// it needs --tls required/optional, or --allow-plaintext on a host that allows it).
//
//   legacy_client --host 127.0.0.1 --port 5222 --domain localhost --user alice
//                 --password secret --tls optional
//
// A pre-XMPP stream has no features on ejabberd and jabberd2, so STARTTLS needs --version 1.0
// there; with the default --tls required and no STARTTLS offered, nothing is sent and the
// client fails with PCJ_SSLFAIL. Prints every event. Exits 0 only when it reached PCJ_READY,
// received its own message back and shut down cleanly; otherwise 1.
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
        "          [--method DIGEST|PLAIN]... [--allow-plaintext] [--version V]\n"
        "          [--timeout SECONDS] [--debug]\n"
        "  --ca-file          trust this CA (default: the system trust store)\n"
        "  --tls              TLS policy (default required: STARTTLS or nothing)\n"
        "  --method           allow only these iq:auth methods (repeatable)\n"
        "  --allow-plaintext  allow <password/> over an unencrypted stream\n"
        "  --version          the stream header's version (default: none)\n",
        argv0);
}

std::string describe(const pcj::Event& e) {
    std::string line(e.name);
    if (e.reason != nullptr) {
        line += " [" + e.reason->to_string() + "]";
    }
    if (e.node != nullptr) {
        // The iq:auth set carries the password or its digest, and jabberd2 echoes it in its
        // error: show the element, not those.
        const pcj::Node* query = e.node->child("query", "jabber:iq:auth");
        const auto secret = [&](const char* name) {
            const pcj::Node* field = query->child(name);
            return field != nullptr && !field->text().empty();
        };
        if (query != nullptr && (secret("password") || secret("digest"))) {
            line += " <iq type=\"" + e.node->attr("type") +
                    "\"><query xmlns=\"jabber:iq:auth\">…</query></iq>";
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
        } else if (arg == "--resource" && has_value) {
            config.resource = argv[++i];
        } else if (arg == "--ca-file" && has_value) {
            config.tls.ca_file = argv[++i];
        } else if (arg == "--tls" && has_value) {
            config.tls.policy = parse_policy(argv[++i]);
        } else if (arg == "--method" && has_value) {
            config.sasl.mechanisms.emplace_back(argv[++i]);
        } else if (arg == "--version" && has_value) {
            config.version = argv[++i];
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
    config.connection_type = pcj::ConnectionType::LEGACY;
    int timeout_s = 30;
    try {
        if (const int rc = parse(argc, argv, config, timeout_s); rc >= 0) {
            return rc;
        }
        pcj::Component client(config);
        bool ready = false, echoed = false, finished = false;
        auto tap = client.subscribe_all(
            [](const pcj::Event& e) { std::printf("event: %s\n", describe(e).c_str()); });

        // Only a session the server really logged in gets its own message back.
        client.add_filter("echo", "/message[body='pcj legacy hello']");
        auto on_echo = client.subscribe("echo", [&](const pcj::Event&) {
            echoed = true;
            client.shutdown();
        });
        auto on_ready = client.subscribe(pcj::ev::READY, [&](const pcj::Event&) {
            ready = true;
            std::printf("logged in as %s\n", client.jid().c_str());
            client.purge_queue();
            client.output(pcj::build("message")
                              .attr("to", client.jid())
                              .attr("type", "chat")
                              .child(pcj::build("body").text("pcj legacy hello")));
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

        const bool ok = ready && echoed && finished;
        std::printf("%s: ready=%d echoed=%d clean_shutdown=%d\n", ok ? "OK" : "FAILED", ready,
                    echoed, finished);
        return ok ? 0 : 1;
    } catch (const pcj::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
