// pcj_outcome: what per-stanza outcomes cost on the send path — output() of COUNT messages to
// the stanza source's sink, with or without an outcome callback.
//
//   pcj_outcome HOST PORT DOMAIN SECRET COUNT [plain|outcome|queued]
//
// Connects as an XEP-0114 component. `plain` calls output(node) on READY, `outcome` calls
// output(node, callback) (the callback counts the `sent` reports), 1,000 per loop iteration as
// bench/pcj_send does. `queued` outputs everything before connecting, with callbacks, into the
// queue, which Config::queue.flush_at_ready writes at READY: the queue's own cost (its slot per
// stanza) on top. Prints "stats cpu_seconds=… peak_rss_kb=…" (CPU from the first output to the
// end), then the count sent (by the outcomes, when there are callbacks).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <pcj/pcj.hpp>
#include <uv.h>

#include "bench_util.hpp"
#include "stanzas.hpp"

namespace {

enum class Mode { plain, outcome, queued };

struct Sender {
    pcj::Component* component = nullptr;
    std::vector<pcj::Node> templates;
    Mode mode = Mode::plain;
    std::size_t total = 0;
    std::size_t issued = 0;
    std::size_t sent = 0; // counted by the outcomes
};

void output_one(Sender& s) {
    const pcj::Node& node = s.templates[s.issued % s.templates.size()];
    ++s.issued;
    if (s.mode == Mode::plain) {
        s.component->output(node);
        return;
    }
    s.component->output(node, [&s](const pcj::Outcome& o) {
        if (o.status == pcj::Delivery::sent) {
            ++s.sent;
        }
    });
}

void on_idle(uv_idle_t* idle) {
    auto* s = static_cast<Sender*>(idle->data);
    if (!s->component->ready()) {
        uv_idle_stop(idle);
        return;
    }
    const std::size_t end = std::min(s->total, s->issued + 1000);
    while (s->issued < end) {
        output_one(*s);
    }
    if (s->issued == s->total) {
        uv_idle_stop(idle);
        s->component->shutdown();
    }
}

std::vector<pcj::Node> make_templates(const std::string& domain) {
    bench::StanzaOptions so;
    so.domain = domain;
    const bench::StanzaBlock block = bench::generate_stanzas(4096, so);
    std::vector<pcj::Node> nodes;
    std::size_t begin = 0;
    for (std::size_t end : block.ends) {
        nodes.push_back(pcj::Node::parse(std::string_view(block.bytes).substr(begin, end - begin)));
        begin = end;
    }
    return nodes;
}

Mode mode_of(int argc, char** argv) {
    const std::string m = argc > 6 ? argv[6] : "plain";
    return m == "outcome" ? Mode::outcome : m == "queued" ? Mode::queued : Mode::plain;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 6) {
        std::fprintf(stderr, "usage: %s HOST PORT DOMAIN SECRET COUNT [plain|outcome|queued]\n",
                     argv[0]);
        return 2;
    }
    pcj::Config config;
    config.connection_type = pcj::ConnectionType::JABBERD14_COMPONENT;
    config.ip = argv[1];
    config.port = static_cast<std::uint16_t>(std::atoi(argv[2]));
    config.hostname = argv[3];
    config.password = argv[4];
    Sender sender;
    sender.mode = mode_of(argc, argv);
    config.queue.flush_at_ready = sender.mode == Mode::queued;
    try {
        pcj::Component component(config);
        sender.component = &component;
        sender.total = std::strtoull(argv[5], nullptr, 10);
        sender.templates = make_templates(config.hostname);
        uv_idle_t idle;
        uv_idle_init(component.loop(), &idle);
        idle.data = &sender;
        double cpu_start = bench::cpu_seconds();
        bool ready = false;
        if (sender.mode == Mode::queued) {
            while (sender.issued < sender.total) {
                output_one(sender);
            }
        }
        auto on_ready = component.subscribe(pcj::ev::READY, [&](const pcj::Event&) {
            ready = true;
            if (sender.mode == Mode::queued) {
                component.shutdown(); // the queue was written before READY's handlers
                return;
            }
            cpu_start = bench::cpu_seconds();
            uv_idle_start(&idle, on_idle);
        });
        component.connect();
        component.run();
        const double cpu = bench::cpu_seconds() - cpu_start;
        uv_close(reinterpret_cast<uv_handle_t*>(&idle), nullptr);
        component.run();
        if (!ready) {
            std::fprintf(stderr, "pcj_outcome: never reached PCJ_READY\n");
            return 1;
        }
        bench::print_stats(cpu);
        std::printf("%zu\n", sender.mode == Mode::plain ? sender.issued : sender.sent);
        return 0;
    } catch (const pcj::Error& e) {
        std::fprintf(stderr, "pcj_outcome: %s\n", e.what());
        return 1;
    }
}
