// pcj_acks: what stream-management acks cost on the send path — an XMPP client outputs COUNT
// messages with outcome callbacks to the stanza source's c2s sink and waits for their end.
//
//   pcj_acks HOST PORT DOMAIN USER PASSWORD COUNT [--sm on|off] [--ack-every N]
//            [--ack-after MS] [--outcome on|off]
//
// Logs in without TLS (SASL PLAIN over plaintext is allowed for this), with XEP-0198 stream
// management on (the default: Config::stream_management's defaults, ack_every 5, ack_after
// 2000 ms) or off. From READY, output(node, callback) 1,000 per loop iteration from an idle
// handle, as bench/pcj_outcome does; the run ends when every stanza has its final outcome —
// `acked` with stream management, `sent` without — and the client then shuts down. Prints
// "acks sm=… wall_seconds=… sent=… acked=… other=…", the stats line (CPU from READY to the
// end) and, last, the count of final outcomes (`acked`, or `sent` without stream management).
// `--outcome off` (only with `--sm off`) is the plain send path over the same connection:
// output(node) without a callback, shutdown() after the last one, and the count output() took.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <pcj/pcj.hpp>
#include <uv.h>

#include "bench_util.hpp"
#include "stanzas.hpp"

namespace {

double now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

struct Sender {
    pcj::Component* component = nullptr;
    std::vector<pcj::Node> templates;
    bool sm = true;
    bool outcome = true; // false: output(node), no callback (stream management off)
    std::size_t total = 0;
    std::size_t issued = 0;
    std::size_t sent = 0;
    std::size_t acked = 0;
    std::size_t other = 0; // failed or dropped: the run does not count
    uv_timer_t finish{};   // shuts down outside the outcome callback
};

std::size_t& final_count(Sender& s) {
    return s.sm ? s.acked : s.sent;
}

void on_outcome(Sender& s, const pcj::Outcome& o) {
    switch (o.status) {
    case pcj::Delivery::sent:
        ++s.sent;
        break;
    case pcj::Delivery::acked:
        ++s.acked;
        break;
    case pcj::Delivery::queued:
        return;
    default:
        ++s.other;
        break;
    }
    if (final_count(s) + s.other == s.total) {
        uv_timer_start(
            &s.finish, [](uv_timer_t* t) { static_cast<Sender*>(t->data)->component->shutdown(); },
            0, 0);
    }
}

void on_idle(uv_idle_t* idle) {
    auto* s = static_cast<Sender*>(idle->data);
    if (!s->component->ready()) {
        uv_idle_stop(idle);
        return;
    }
    const std::size_t end = std::min(s->total, s->issued + 1000);
    while (s->issued < end) {
        const pcj::Node& node = s->templates[s->issued % s->templates.size()];
        ++s->issued;
        if (!s->outcome) {
            s->component->output(node);
            continue;
        }
        s->component->output(node, [s](const pcj::Outcome& o) { on_outcome(*s, o); });
    }
    if (s->issued == s->total) {
        uv_idle_stop(idle); // no busy loop while the last acks arrive
        if (!s->outcome) {
            s->component->shutdown(); // writes what is buffered, then ends the stream
        }
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

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s HOST PORT DOMAIN USER PASSWORD COUNT [--sm on|off] [--ack-every N]\n"
                 "          [--ack-after MS] [--outcome on|off]\n",
                 argv0);
    std::exit(2);
}

bool on_off(const char* value, const char* argv0) {
    if (std::strcmp(value, "on") != 0 && std::strcmp(value, "off") != 0) {
        usage(argv0);
    }
    return std::strcmp(value, "on") == 0;
}

pcj::Config make_config(int argc, char** argv, bool& outcome) {
    pcj::Config config;
    config.connection_type = pcj::ConnectionType::XMPP;
    config.ip = argv[1];
    config.port = static_cast<std::uint16_t>(std::atoi(argv[2]));
    config.hostname = argv[3];
    config.username = argv[4];
    config.password = argv[5];
    config.resource = "bench";
    config.tls.policy = pcj::TlsPolicy::disabled;
    config.sasl.allow_plaintext_password = true;
    for (int i = 7; i < argc; i += 2) {
        const std::string opt = argv[i];
        if (i + 1 >= argc) {
            usage(argv[0]);
        }
        const char* value = argv[i + 1];
        if (opt == "--sm") {
            config.stream_management.enabled = on_off(value, argv[0]);
        } else if (opt == "--outcome") {
            outcome = on_off(value, argv[0]);
        } else if (opt == "--ack-every") {
            config.stream_management.ack_every = static_cast<unsigned>(std::atoi(value));
        } else if (opt == "--ack-after") {
            config.stream_management.ack_after = std::chrono::milliseconds(std::atol(value));
        } else {
            usage(argv[0]);
        }
    }
    return config;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 7) {
        usage(argv[0]);
    }
    Sender sender;
    const pcj::Config config = make_config(argc, argv, sender.outcome);
    sender.sm = config.stream_management.enabled;
    if (!sender.outcome && sender.sm) {
        std::fprintf(stderr, "pcj_acks: --outcome off needs --sm off\n");
        return 2;
    }
    sender.total = std::strtoull(argv[6], nullptr, 10);
    try {
        pcj::Component component(config);
        sender.component = &component;
        sender.templates = make_templates(config.hostname);
        uv_idle_t idle;
        uv_idle_init(component.loop(), &idle);
        idle.data = &sender;
        uv_timer_init(component.loop(), &sender.finish);
        sender.finish.data = &sender;
        double cpu_start = 0;
        double wall_start = 0;
        bool ready = false;
        bool sm_enabled = false;
        auto on_enabled =
            component.subscribe(pcj::sm::ENABLED, [&](const pcj::Event&) { sm_enabled = true; });
        auto on_ready = component.subscribe(pcj::ev::READY, [&](const pcj::Event&) {
            ready = true;
            cpu_start = bench::cpu_seconds();
            wall_start = now();
            uv_idle_start(&idle, on_idle);
        });
        component.connect();
        component.run();
        const double cpu = bench::cpu_seconds() - cpu_start;
        const double wall = now() - wall_start;
        uv_close(reinterpret_cast<uv_handle_t*>(&idle), nullptr);
        uv_close(reinterpret_cast<uv_handle_t*>(&sender.finish), nullptr);
        component.run();
        if (!ready || sm_enabled != sender.sm) {
            std::fprintf(stderr, "pcj_acks: %s\n",
                         !ready ? "never reached PCJ_READY"
                                : "stream management was not as asked (--sm)");
            return 1;
        }
        std::printf("acks sm=%s wall_seconds=%.6f sent=%zu acked=%zu other=%zu\n",
                    sender.sm ? "on" : "off", wall, sender.sent, sender.acked, sender.other);
        bench::print_stats(cpu);
        std::printf("%zu\n", sender.outcome ? final_count(sender) : sender.issued);
        return 0;
    } catch (const pcj::Error& e) {
        std::fprintf(stderr, "pcj_acks: %s\n", e.what());
        return 1;
    }
}
