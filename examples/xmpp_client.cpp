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
#include <string>

#include <pcj/pcj.hpp>

#include "common.hpp"

namespace {

// SASL payloads can carry credentials (PLAIN): show the element, not its content.
std::string show(const pcj::Node& node) {
    if (node.local_name() == "auth" || node.local_name() == "response") {
        return "<" + node.name() + " mechanism=\"" + node.attr("mechanism") + "\">…</" +
               node.name() + ">";
    }
    return node.to_string();
}

} // namespace

int main(int argc, char** argv) {
    pcj::Config config;
    config.connection_type = pcj::ConnectionType::XMPP;
    int timeout_s = 30;
    CLI::App app{"An XMPP client: STARTTLS, SASL, bind; sends itself a message, asks disco#info.\n"
                 "Without --host and --port the server is found through DOMAIN's SRV records."};
    example::add_common_options(app, config, timeout_s, false);
    example::add_client_options(app, config);
    app.add_option("--mechanism", config.sasl.mechanisms,
                   "allow only these SASL mechanisms (repeatable)");
    if (const int rc = example::parse(app, argc, argv); rc >= 0) {
        return rc;
    }
    try {
        pcj::Component client(config);
        bool ready = false, echoed = false, disco = false, finished = false;
        auto tap = example::print_events(client, show);

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

        example::run_with_watchdog(client, timeout_s);

        const bool ok = ready && echoed && disco && finished;
        std::printf("%s: ready=%d echoed=%d disco=%d clean_shutdown=%d\n", ok ? "OK" : "FAILED",
                    ready, echoed, disco, finished);
        return ok ? 0 : 1;
    } catch (const pcj::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
