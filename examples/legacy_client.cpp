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

} // namespace

int main(int argc, char** argv) {
    pcj::Config config;
    config.connection_type = pcj::ConnectionType::LEGACY;
    int timeout_s = 30;
    CLI::App app{"A pre-XMPP client: jabber:iq:auth (XEP-0078), STARTTLS when offered; sends\n"
                 "itself a message. Without --host and --port: DOMAIN's SRV records."};
    example::add_common_options(app, config, timeout_s, false);
    example::add_client_options(app, config);
    app.add_option("--method", config.sasl.mechanisms,
                   "allow only these iq:auth methods: DIGEST, PLAIN (repeatable)");
    app.add_option("--version", config.version,
                   "the stream header's version (default: 1.0 with TLS required or optional)");
    if (const int rc = example::parse(app, argc, argv); rc >= 0) {
        return rc;
    }
    try {
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
