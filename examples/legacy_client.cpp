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
// With --tls required (the default) or optional the stream asks for version 1.0, on which
// ejabberd and jabberd2 offer STARTTLS; with TLS required and no STARTTLS offered, nothing is
// sent and the client fails with PCJ_SSLFAIL. Prints every event. Exits 0 only when it reached
// PCJ_READY, received its own message back and shut down cleanly; otherwise 1.
#include <cstdio>
#include <string>

#include <pcj/pcj.hpp>

#include "common.hpp"

namespace {

void usage(const char* argv0) {
    std::printf(
        "usage: %s [--host HOST --port PORT] --domain DOMAIN --user NAME --password PASS\n"
        "          [--dns-server ADDRESS[:PORT]]...\n"
        "          [--ca-file FILE] [--resource RES] [--tls required|optional|disabled|direct]\n"
        "          [--method DIGEST|PLAIN]... [--allow-plaintext] [--version V]\n"
        "          [--timeout SECONDS] [--debug]\n"
        "  --host, --port     where the server is (default: DNS SRV records of DOMAIN)\n"
        "  --dns-server       ask this DNS server (default: the system's resolver)\n"
        "  --ca-file          trust this CA (default: the system trust store)\n"
        "  --tls              TLS policy (default required: STARTTLS or nothing)\n"
        "  --method           allow only these iq:auth methods (repeatable)\n"
        "  --allow-plaintext  allow <password/> over an unencrypted stream\n"
        "  --version          the stream header's version (default: 1.0 with TLS required or\n"
        "                     optional, none with TLS disabled or direct)\n",
        argv0);
}

// The iq:auth set carries the password or its digest, and jabberd2 echoes it in its error: show
// the element, not those.
std::string show(const pcj::Node& node) {
    const pcj::Node* query = node.child("query", "jabber:iq:auth");
    const auto secret = [&](const char* name) {
        const pcj::Node* field = query->child(name);
        return field != nullptr && !field->text().empty();
    };
    if (query != nullptr && (secret("password") || secret("digest"))) {
        return "<iq type=\"" + node.attr("type") +
               "\"><query xmlns=\"jabber:iq:auth\">…</query></iq>";
    }
    return node.to_string();
}

// The options only this example has.
example::Took own_option(pcj::Config& config, const std::string& arg, const char* value) {
    if (const example::Took took = example::client_option(config, arg, value);
        took != example::Took::nothing || value == nullptr) {
        return took;
    }
    if (arg == "--method") {
        config.sasl.mechanisms.emplace_back(value);
    } else if (arg == "--version") {
        config.version = value;
    } else {
        return example::Took::nothing;
    }
    return example::Took::value;
}

} // namespace

int main(int argc, char** argv) {
    pcj::Config config;
    config.connection_type = pcj::ConnectionType::LEGACY;
    int timeout_s = 30;
    try {
        if (const int rc = example::parse_options(argc, argv, config, timeout_s, usage, own_option);
            rc >= 0) {
            return rc;
        }
        pcj::Component client(config);
        bool ready = false, echoed = false, finished = false;
        auto tap = example::print_events(client, show);

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

        example::run_with_watchdog(client, timeout_s);

        const bool ok = ready && echoed && finished;
        std::printf("%s: ready=%d echoed=%d clean_shutdown=%d\n", ok ? "OK" : "FAILED", ready,
                    echoed, finished);
        return ok ? 0 : 1;
    } catch (const pcj::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
