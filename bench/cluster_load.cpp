// cluster_load: the load generator of bench/cluster.sh. One XEP-0114 connection per --server,
// all under one load domain, sends requests (<iq type='get'> with examples/cluster_service's
// <work/>) from many users of that domain (u1@load.localhost, …) to the service domain, keeps
// --window requests outstanding, and counts the answers for --seconds. Prints one line:
//   answered=N seconds=T rate=R/s lost=L by=p1:N1,p2:N2,…
// (lost: requests still unanswered at the end, after a grace second).
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <pcj/pcj.hpp>
#include <uv.h>

namespace {

constexpr const char* work_ns = "urn:pcj:example:cluster";

struct Load {
    std::vector<std::unique_ptr<pcj::Component>> connections;
    std::string domain, to;
    unsigned users = 64;
    long next_n = 1;
    std::set<long> outstanding;
    std::map<std::string, long> by;
    long answered = 0;
    bool measuring = false;
    bool sending = true;

    void send(pcj::Component& c) {
        const long n = next_n++;
        pcj::Node iq("iq");
        iq.set_attr("type", "get");
        iq.set_attr("id", "w" + std::to_string(n));
        iq.set_attr("from", "u" + std::to_string(n % users + 1) + "@" + domain + "/load");
        iq.set_attr("to", to);
        iq.add_child("work", work_ns).set_attr("n", std::to_string(n));
        outstanding.insert(n);
        c.output(std::move(iq));
    }

    void on_node(pcj::Component& c, const pcj::Node& node) {
        if (node.name() != "iq" || node.attr("type") != "result") {
            return;
        }
        for (const auto& child : node.children()) {
            if (child.local_name() != "work") {
                continue;
            }
            const long n = std::stol(child.attr("n"));
            if (outstanding.erase(n) == 0) {
                continue;
            }
            if (measuring) {
                ++answered;
                ++by[child.attr("by")];
            }
            if (sending) {
                send(c);
            }
        }
    }
};

pcj::ServerAddress parse_server(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) {
        throw CLI::ValidationError("--server", "expected HOST:PORT");
    }
    return {text.substr(0, colon), static_cast<std::uint16_t>(std::stoi(text.substr(colon + 1)))};
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Load generator for bench/cluster.sh"};
    std::vector<std::string> servers;
    std::string secret;
    Load load;
    load.domain = "load.localhost";
    load.to = "component.localhost";
    unsigned window = 200;
    double seconds = 10;
    app.add_option("--server", servers, "HOST:PORT of a node's component port; repeat it")
        ->required();
    app.add_option("--secret", secret)->required();
    app.add_option("--domain", load.domain, "the load generator's own component domain");
    app.add_option("--to", load.to, "the service's component domain");
    app.add_option("--users", load.users, "distinct senders (bare_source spreads by them)");
    app.add_option("--window", window, "requests outstanding at any time");
    app.add_option("--seconds", seconds, "how long to measure");
    CLI11_PARSE(app, argc, argv);

    uv_loop_t* loop = uv_default_loop();
    std::vector<pcj::Subscription> subs;
    for (const auto& text : servers) {
        pcj::Config c;
        c.connection_type = pcj::ConnectionType::JABBERD14_COMPONENT;
        c.hostname = load.domain;
        c.password = secret;
        c.servers = {parse_server(text)};
        auto& comp = load.connections.emplace_back(std::make_unique<pcj::Component>(c, loop));
        pcj::Component* raw = comp.get();
        subs.push_back(comp->subscribe(pcj::ev::NODERECEIVED, [&load, raw](const pcj::Event& e) {
            load.on_node(*raw, *e.node);
        }));
        comp->connect();
    }
    const auto all_ready = [&] {
        for (const auto& c : load.connections) {
            if (!c->ready()) {
                return false;
            }
        }
        return true;
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!all_ready() && std::chrono::steady_clock::now() < deadline) {
        uv_run(loop, UV_RUN_ONCE);
    }
    if (!all_ready()) {
        std::fprintf(stderr, "cluster_load: not every connection reached READY\n");
        return 1;
    }
    // Fill the window, warm up for a second, then measure.
    for (unsigned i = 0; i < window; ++i) {
        load.send(*load.connections[i % load.connections.size()]);
    }
    // Runs the loop for `s` seconds, sleeping in it (a busy loop would take a core from the
    // servers being measured).
    uv_timer_t timer;
    uv_timer_init(loop, &timer);
    bool expired = false;
    timer.data = &expired;
    const auto run_for = [&](double s) {
        expired = false;
        uv_timer_start(
            &timer, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; },
            static_cast<std::uint64_t>(s * 1000), 0);
        while (!expired) {
            uv_run(loop, UV_RUN_ONCE);
        }
    };
    run_for(1.0);
    load.measuring = true;
    const auto t0 = std::chrono::steady_clock::now();
    run_for(seconds);
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    load.measuring = false;
    load.sending = false;
    run_for(1.0); // the answers still on their way
    std::printf("answered=%ld seconds=%.2f rate=%.0f/s lost=%zu by=", load.answered, elapsed,
                static_cast<double>(load.answered) / elapsed, load.outstanding.size());
    const char* sep = "";
    for (const auto& [name, n] : load.by) {
        std::printf("%s%s:%ld", sep, name.c_str(), n);
        sep = ",";
    }
    std::printf("\n");
    uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
    for (auto& c : load.connections) {
        c->shutdown();
    }
    uv_run(loop, UV_RUN_DEFAULT);
    subs.clear();
    load.connections.clear();
    uv_run(loop, UV_RUN_DEFAULT);
    return 0;
}
