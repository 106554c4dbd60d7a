// cluster_service: one process of an XEP-0114 component service that a deployment runs as N
// processes, all connected under the same component domain (doc/deployment.md).
//
// Server setup: an ejabberd (or a cluster of them) whose ejabberd_service listener accepts the
// domain with this secret; for N processes on one domain, ejabberd's domain_balancing, e.g.
//   domain_balancing:
//     component.localhost: {type: bare_source, component_number: 4}
// Each process is given the component ports of every node; it connects to the first that
// answers and, when that node goes away, moves to the next by itself (Config::servers and the
// reconnect policy).
//
//   cluster_service --name p1 --secret S --server 127.0.0.1:5347 --server 127.0.0.1:5357
//
// It answers every request — an iq get carrying <work xmlns='urn:pcj:example:cluster' n='N'/> —
// with an iq result carrying the same element plus by='NAME', so a client sees which process
// answered. It prints one line per server event ("p1 ready 127.0.0.1:5347") and, at the end, how
// many requests it answered. SIGTERM or SIGINT shuts it down cleanly (exit 0).
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <pcj/pcj.hpp>
#include <uv.h>

namespace {

constexpr const char* work_ns = "urn:pcj:example:cluster";

// "HOST:PORT" (the last colon splits, so "[::1]:5347" keeps its brackets off).
pcj::ServerAddress parse_server(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
        throw CLI::ValidationError("--server", "expected HOST:PORT, got '" + text + "'");
    }
    std::string host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    const int port = std::stoi(text.substr(colon + 1));
    if (port < 1 || port > 65535) {
        throw CLI::ValidationError("--server", "port out of range in '" + text + "'");
    }
    return {host, static_cast<std::uint16_t>(port)};
}

// The work element of a request, or nullptr when the node is not one.
const pcj::Node* request_of(const pcj::Node& node) {
    if (node.name() != "iq" || node.attr("type") != "get") {
        return nullptr;
    }
    for (const auto& child : node.children()) {
        if (child.local_name() == "work" && child.ns() == work_ns) {
            return &child;
        }
    }
    return nullptr;
}

// Burns `us` microseconds of CPU: a stand-in for the work a real service does per request.
void busy(int us) {
    if (us <= 0) {
        return;
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
    volatile unsigned sink = 0;
    while (std::chrono::steady_clock::now() < until) {
        sink = sink + 1;
    }
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"One process of a component service run as many processes (doc/deployment.md)"};
    std::string name;
    std::string domain = "component.localhost";
    std::string secret;
    std::vector<std::string> server_texts;
    bool shuffle = false;
    int work_us = 0;
    int min_delay_ms = 1000;
    app.add_option("--name", name, "this process's name, put in every answer")->required();
    app.add_option("--server", server_texts, "HOST:PORT of a node's component port; repeat it")
        ->required();
    app.add_option("--domain", domain, "the component domain")->capture_default_str();
    app.add_option("--secret", secret, "the component secret")->required();
    app.add_flag("--shuffle", shuffle, "try the servers in a random order");
    app.add_option("--work-us", work_us, "CPU time spent per request (microseconds)");
    app.add_option("--reconnect-min-delay", min_delay_ms,
                   "shortest wait before connecting again after a lost connection (ms): long "
                   "enough for the cluster to free a dead node's slots")
        ->capture_default_str()
        ->check(CLI::Range(0, 60'000));
    CLI11_PARSE(app, argc, argv);

    try {
        pcj::Config config;
        config.connection_type = pcj::ConnectionType::JABBERD14_COMPONENT;
        config.hostname = domain;
        config.password = secret;
        config.alias = name;
        for (const auto& text : server_texts) {
            config.servers.push_back(parse_server(text));
        }
        config.shuffle_servers = shuffle;
        config.connect_timeout = std::chrono::seconds(3);
        config.shutdown_timeout = std::chrono::seconds(2);
        // After a lost connection, wait at least min_delay_ms before the next try: an ejabberd
        // cluster frees the component slots of a node that died only once it has seen the node
        // go down, and a component that registers before that is accepted without a slot and
        // receives nothing (doc/deployment.md).
        config.reconnect.enabled = true;
        config.reconnect.min_delay = std::chrono::milliseconds(min_delay_ms);
        config.reconnect.initial_delay =
            std::max(config.reconnect.min_delay, std::chrono::milliseconds(200));
        config.reconnect.max_delay = config.reconnect.initial_delay * 4;

        pcj::Component component(config);
        unsigned long answered = 0;

        auto say = [&](const char* what, const pcj::Event& e) {
            const auto* server = e.get<pcj::ServerChoice>();
            std::printf("%s %s %s:%u%s%s\n", name.c_str(), what, server->host.c_str(), server->port,
                        e.reason != nullptr ? " " : "",
                        e.reason != nullptr ? e.reason->to_string().c_str() : "");
            std::fflush(stdout);
        };
        auto on_trying = component.subscribe(pcj::un::SERVER_TRYING,
                                             [&](const pcj::Event& e) { say("trying", e); });
        auto on_failed = component.subscribe(pcj::un::SERVER_FAILED,
                                             [&](const pcj::Event& e) { say("failed", e); });
        auto on_ready = component.subscribe(pcj::un::SERVER_READY,
                                            [&](const pcj::Event& e) { say("ready", e); });
        auto on_stopped = component.subscribe(pcj::un::RECONNECT_STOPPED, [&](const pcj::Event& e) {
            std::printf("%s gave up: %s\n", name.c_str(), e.reason->to_string().c_str());
            std::fflush(stdout);
            component.stop();
        });
        auto on_node = component.subscribe(pcj::ev::NODERECEIVED, [&](const pcj::Event& e) {
            const pcj::Node* work = request_of(*e.node);
            if (work == nullptr) {
                return;
            }
            busy(work_us);
            pcj::Node reply("iq");
            reply.set_attr("type", "result");
            reply.set_attr("id", e.node->attr("id"));
            reply.set_attr("from", e.node->attr("to"));
            reply.set_attr("to", e.node->attr("from"));
            pcj::Node& answer = reply.add_child("work", work_ns);
            answer.set_attr("n", work->attr("n"));
            answer.set_attr("by", name);
            component.output(std::move(reply));
            ++answered;
        });

        // SIGTERM and SIGINT: close the stream (which also stops the reconnect policy), close
        // the signal handles, and let the loop run out.
        struct Stopper {
            pcj::Component* component;
            uv_signal_t signals[2];
            void close() {
                for (auto& s : signals) {
                    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&s))) {
                        uv_close(reinterpret_cast<uv_handle_t*>(&s), nullptr);
                    }
                }
            }
        } stopper{&component, {}};
        for (int i = 0; i < 2; ++i) {
            uv_signal_init(component.loop(), &stopper.signals[i]);
            stopper.signals[i].data = &stopper;
            uv_signal_start(
                &stopper.signals[i],
                [](uv_signal_t* handle, int) {
                    auto* self = static_cast<Stopper*>(handle->data);
                    self->component->shutdown();
                    self->close();
                },
                i == 0 ? SIGTERM : SIGINT);
        }

        component.connect();
        component.run();
        stopper.close(); // after reconnect_stopped: the handles are still open
        uv_run(component.loop(), UV_RUN_NOWAIT);
        std::printf("%s answered %lu\n", name.c_str(), answered);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", name.c_str(), e.what());
        return 1;
    }
}
