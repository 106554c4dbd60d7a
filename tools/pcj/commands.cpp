// pcj send, watch, iq, ping and disco: what each does once the connection is READY.
#include "commands.hpp"

#include <cstdio>
#include <iostream>
#include <iterator>

#include "output.hpp"

namespace pcjtool {

namespace {

bool is_j2(const pcj::Config& c) {
    return c.connection_type == pcj::ConnectionType::JABBERD20_COMPONENT;
}

// The address a component sends from: --from, else its domain (a jabberd2 component's bound
// domain is its jid() once READY).
std::string component_from(const pcj::Component& component, const std::string& from) {
    if (!from.empty()) {
        return from;
    }
    return component.jid().empty() ? component.config().hostname : component.jid();
}

// A stanza ready for the wire: a component's carries `from`; a jabberd2 component's goes in a
// <route/> from its bound domain to the stanza's recipient.
pcj::Node addressed(const pcj::Component& component, const Setup& setup, pcj::Node stanza,
                    const std::string& from) {
    if (setup.client) {
        return stanza;
    }
    const std::string sender = component_from(component, from);
    if (!stanza.has_attr("from")) {
        stanza.set_attr("from", sender);
    }
    if (is_j2(setup.config)) {
        const std::string to = stanza.attr("to");
        return pcj::wrap_route(std::move(stanza), sender, to);
    }
    return stanza;
}

// Every element of the XML read from stdin, one stanza each.
std::vector<pcj::Node> stanzas_from_stdin() {
    const std::string text((std::istreambuf_iterator<char>(std::cin)),
                           std::istreambuf_iterator<char>());
    const pcj::Node all = pcj::Node::parse("<stanzas>" + text + "</stanzas>");
    std::vector<pcj::Node> out;
    for (const pcj::Node* element : all.elements()) {
        out.push_back(*element);
    }
    return out;
}

std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) {
        out += (out.empty() ? "" : " ") + w;
    }
    return out;
}

} // namespace

int run_send(const Setup& setup, const Runner::Options& run, const SendOptions& o) {
    std::vector<pcj::Node> stanzas;
    if (o.text.size() == 1 && o.text.front() == "-") {
        stanzas = stanzas_from_stdin(); // ParseError: exit 2 in main
        if (stanzas.empty()) {
            throw pcj::ConfigError("send -: no stanza on standard input");
        }
    } else {
        if (o.to.empty()) {
            throw pcj::ConfigError("--to: required");
        }
        stanzas.push_back(pcj::build("message")
                              .attr("to", o.to)
                              .attr("type", o.message_type)
                              .child(pcj::build("body").text(join(o.text))));
    }
    pcj::Config config = setup.config;
    config.stream_management.ack_every = 1; // ask for the ack at once: nothing else will come
    Runner runner(config, run);
    auto& c = runner.component();

    bool managed = false; // the server enabled XEP-0198: wait for acks, not just the write
    auto sm = c.subscribe(pcj::sm::ENABLED, [&](const pcj::Event&) { managed = true; });
    std::size_t done = 0;
    bool writing = false;
    auto settle = [&] {
        if (!writing && done == stanzas.size()) {
            std::fprintf(stderr, "pcj: %zu stanza%s %s\n", done, done == 1 ? "" : "s",
                         managed ? "acknowledged by the server" : "sent");
            runner.finish(Exit::ok);
        }
    };
    return runner.run([&] {
        writing = true;
        for (auto& stanza : stanzas) {
            c.output(addressed(c, setup, stanza, o.from), [&](const pcj::Outcome& out) {
                if (out.status == pcj::Delivery::failed || out.status == pcj::Delivery::dropped) {
                    std::fprintf(stderr, "pcj: not delivered: %s\n",
                                 out.reason.to_string().c_str());
                    runner.finish(Exit::failed);
                    return;
                }
                if (out.status == pcj::Delivery::acked ||
                    (out.status == pcj::Delivery::sent && !managed)) {
                    ++done;
                    settle();
                }
            });
        }
        writing = false;
        settle();
    });
}

int run_watch(const Setup& setup, Runner::Options run, const WatchOptions& o) {
    run.deadline_until_ready_only = true;
    Runner runner(setup.config, run);
    auto& c = runner.component();
    for (const auto& xpath : o.filters) {
        c.add_filter("filter", xpath); // XPathError: exit 2 in main
    }
    const bool filtering = !o.filters.empty();
    auto printer = c.subscribe_all([&](const pcj::Event& e) {
        if (!o.all_events && noisy(e.name)) {
            return;
        }
        if (filtering && e.name == pcj::ev::NODERECEIVED) {
            return; // with filters, only the stanzas that match are printed
        }
        const std::string line = o.json ? json_line(e) : text_line(e);
        std::fprintf(stdout, "%s\n", line.c_str());
        std::fflush(stdout);
    });
    runner.on_interrupt([&] { runner.finish(Exit::ok); });
    return runner.run([&] {
        if (setup.client) {
            // Available, so that messages to the bare JID reach this resource too.
            c.output(pcj::build("presence")
                         .child(pcj::build("priority").text(std::to_string(o.priority))));
        }
    });
}

int run_request(const Setup& setup, const Runner::Options& run, Request kind,
                const RequestOptions& o) {
    pcj::Node iq;
    std::string to = o.to.empty() ? setup.config.hostname : o.to;
    if (kind == Request::ping) {
        iq = pcj::build("iq").attr("type", "get").child(pcj::build("ping", "urn:xmpp:ping"));
    } else if (kind == Request::disco) {
        pcj::Node query("query", std::string(o.items ? pcj::disco_items_ns : pcj::disco_info_ns));
        if (!o.node.empty()) {
            query.set_attr("node", o.node);
        }
        iq = pcj::build("iq").attr("type", "get").child(std::move(query));
    } else {
        pcj::Node parsed = pcj::Node::parse(o.xml); // ParseError: exit 2 in main
        if (parsed.local_name() == "iq") {
            iq = std::move(parsed);
            if (o.to.empty() && iq.has_attr("to")) {
                to = iq.attr("to");
            }
        } else {
            iq = pcj::build("iq").attr("type", o.iq_type).child(std::move(parsed));
        }
    }
    iq.set_attr("to", to);

    Runner runner(setup.config, run);
    auto& c = runner.component();
    return runner.run([&] {
        c.return_to_sender(
            addressed(c, setup, iq, o.from),
            [&](const pcj::Event& e) {
                if (e.node == nullptr) {
                    const bool timed_out = e.reason != nullptr && e.reason->condition == "timeout";
                    std::fprintf(stderr, "pcj: no reply: %s\n",
                                 e.reason != nullptr ? e.reason->to_string().c_str() : "?");
                    runner.finish(timed_out ? Exit::timeout : Exit::network);
                    return;
                }
                const pcj::Node* reply =
                    pcj::is_route(*e.node) ? pcj::route_payload(*e.node) : e.node;
                if (reply == nullptr) {
                    reply = e.node;
                }
                std::printf("%s\n", one_line(reply->to_string()).c_str());
                std::fflush(stdout);
                runner.finish(reply->attr("type") == "result" ? Exit::ok : Exit::failed);
            },
            run.timeout);
    });
}

} // namespace pcjtool
