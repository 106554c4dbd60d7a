// pcj: send a message, watch a connection, or ask one question, as a client or a component of
// any of pcj's four connection types. Options, config file and exit codes: doc/tool.md.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "options.hpp"

using namespace pcjtool;

namespace {

const char* exit_codes_text = R"(Exit status:
  0  done (sent, acknowledged where the server offers it; a result reply; watch interrupted)
  1  the request failed (an error reply, a stanza not delivered)
  2  usage: a bad option, config file or argument
  3  network or DNS: refused, unreachable, lost connection
  4  TLS: untrusted or wrong certificate, handshake failure
  5  authentication (or resource binding) refused
  6  the server ended the stream with a stream error
  7  timeout)";

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"pcj: a command-line XMPP client and component (pcj library)", "pcj"};
    app.footer(exit_codes_text);
    app.require_subcommand(1);
    app.fallthrough(); // the common options may follow the command
    CommonOptions common;
    add_common_options(app, common);

    SendOptions send;
    auto* send_cmd = app.add_subcommand("send", "send one message, or raw stanzas from stdin");
    send_cmd->add_option("--to", send.to, "recipient JID");
    send_cmd->add_option("--message-type", send.message_type, "the message's type")
        ->check(CLI::IsMember({"chat", "normal", "headline"}))
        ->capture_default_str();
    send_cmd->add_option("--from", send.from, "components: sender (default: the domain)");
    send_cmd->add_option("text", send.text, "the body, or - to read raw XML stanzas from stdin")
        ->required();

    WatchOptions watch;
    auto* watch_cmd = app.add_subcommand("watch", "print every event and stanza until interrupted");
    watch_cmd->add_option("--filter", watch.filters, "print only stanzas this XPath selects from");
    watch_cmd->add_flag("--json", watch.json, "one JSON object per line");
    watch_cmd->add_option("--priority", watch.priority, "clients: presence priority")
        ->check(CLI::Range(-128, 127))
        ->capture_default_str();
    watch_cmd->add_flag("--all-events", watch.all_events,
                        "also the per-read/per-write and per-element events");

    RequestOptions iq, ping, disco;
    auto* iq_cmd = app.add_subcommand("iq", "send one iq request, print its reply");
    iq_cmd->add_option("--to", iq.to, "recipient JID (default: the server)");
    iq_cmd->add_option("--iq-type", iq.iq_type, "get or set")
        ->check(CLI::IsMember({"get", "set"}))
        ->capture_default_str();
    iq_cmd->add_option("--from", iq.from, "components: sender (default: the domain)");
    iq_cmd->add_option("xml", iq.xml, "the payload element, or a whole <iq/>")->required();
    auto* ping_cmd = app.add_subcommand("ping", "XEP-0199 ping, print the reply");
    ping_cmd->add_option("jid", ping.to, "whom to ping (default: the server)");
    ping_cmd->add_option("--from", ping.from, "components: sender (default: the domain)");
    auto* disco_cmd = app.add_subcommand("disco", "XEP-0030 disco#info (or #items), print it");
    disco_cmd->add_option("jid", disco.to, "whom to ask (default: the server)");
    disco_cmd->add_flag("--items", disco.items, "ask for disco#items");
    disco_cmd->add_option("--node", disco.node, "the disco node");
    disco_cmd->add_option("--from", disco.from, "components: sender (default: the domain)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e); // prints the message
        return Exit::usage;
    }

    try {
        const Setup setup = make_setup(app, common);
        Runner::Options run;
        run.timeout = std::chrono::milliseconds(static_cast<long long>(common.timeout * 1000));
        run.debug = setup.debug;
        if (*send_cmd) {
            return run_send(setup, run, send);
        }
        if (*watch_cmd) {
            return run_watch(setup, run, watch);
        }
        if (*iq_cmd) {
            return run_request(setup, run, Request::iq, iq);
        }
        if (*ping_cmd) {
            return run_request(setup, run, Request::ping, ping);
        }
        return run_request(setup, run, Request::disco, disco);
    } catch (const pcj::ConfigError& e) {
        std::fprintf(stderr, "pcj: %s\n", e.what());
        return Exit::usage;
    } catch (const pcj::ParseError& e) {
        std::fprintf(stderr, "pcj: not XML: %s\n", e.what());
        return Exit::usage;
    } catch (const pcj::XPathError& e) {
        std::fprintf(stderr, "pcj: --filter: %s\n", e.what());
        return Exit::usage;
    } catch (const pcj::Error& e) {
        std::fprintf(stderr, "pcj: %s\n", e.what());
        return Exit::failed;
    }
}
