// pcj_send: pcj's send benchmark client — output() of COUNT messages to the stanza source's sink.
//
//   pcj_send HOST PORT DOMAIN SECRET COUNT [--batch N]
//
// Connects as an XEP-0114 component; on PCJ_READY it calls output() with copies of 4,096
// realistic pre-parsed messages (a copy stands for the node an application builds), N per loop
// iteration (default 1,000) so that writing overlaps serialising, then shutdown(). Prints
// "stats cpu_seconds=… peak_rss_kb=…" (CPU from READY to the end) and the count sent, last.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <pcj/pcj.hpp>
#include <uv.h>

#include "bench_util.hpp"
#include "stanzas.hpp"

namespace {

struct Sender {
    pcj::Component* component = nullptr;
    std::vector<pcj::Node> templates;
    std::size_t total = 0;
    std::size_t sent = 0;
    std::size_t batch = 1000;
};

void on_idle(uv_idle_t* idle) {
    auto* s = static_cast<Sender*>(idle->data);
    if (!s->component->ready()) {
        uv_idle_stop(idle); // the connection ended under us: stop, and report what was sent
        return;
    }
    const std::size_t end = std::min(s->total, s->sent + s->batch);
    for (; s->sent < end; ++s->sent) {
        s->component->output(s->templates[s->sent % s->templates.size()]);
    }
    if (s->sent == s->total) {
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

} // namespace

int main(int argc, char** argv) {
    if (argc < 6) {
        std::fprintf(stderr, "usage: %s HOST PORT DOMAIN SECRET COUNT [--batch N]\n", argv[0]);
        return 2;
    }
    pcj::Config config;
    config.connection_type = pcj::ConnectionType::JABBERD14_COMPONENT;
    config.ip = argv[1];
    config.port = static_cast<std::uint16_t>(std::atoi(argv[2]));
    config.hostname = argv[3];
    config.password = argv[4];
    try {
        pcj::Component component(config);
        Sender sender;
        sender.component = &component;
        sender.total = std::strtoull(argv[5], nullptr, 10);
        if (argc > 7 && std::string(argv[6]) == "--batch") {
            sender.batch = std::max<std::size_t>(1, std::strtoull(argv[7], nullptr, 10));
        }
        sender.templates = make_templates(config.hostname);

        uv_idle_t idle;
        uv_idle_init(component.loop(), &idle);
        idle.data = &sender;
        double cpu_at_ready = 0;
        bool ready = false;
        auto on_ready = component.subscribe(pcj::ev::READY, [&](const pcj::Event&) {
            ready = true;
            cpu_at_ready = bench::cpu_seconds();
            uv_idle_start(&idle, on_idle);
        });
        component.connect();
        component.run();
        const double cpu = bench::cpu_seconds() - cpu_at_ready;
        uv_close(reinterpret_cast<uv_handle_t*>(&idle), nullptr);
        component.run(); // lets the idle handle's close complete
        if (!ready) {
            std::fprintf(stderr, "pcj_send: never reached PCJ_READY\n");
            return 1;
        }
        bench::print_stats(cpu);
        std::printf("%zu\n", sender.sent);
        return 0;
    } catch (const pcj::Error& e) {
        std::fprintf(stderr, "pcj_send: %s\n", e.what());
        return 1;
    }
}
