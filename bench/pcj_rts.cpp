// pcj_rts: return_to_sender benchmark — COUNT iq requests outstanding, answered in random order.
//
//   pcj_rts HOST PORT DOMAIN SECRET COUNT
//
// Against `stanza_source --mode rts --count COUNT`: on PCJ_READY it sends COUNT
// <iq type='get'><ping/></iq> through return_to_sender() with a callback (pcj assigns the ids),
// the source collects them all and answers in a shuffled order, and each reply must reach its
// own callback. Prints "rts requests=… request_cpu=… reply_cpu=… reply_seconds=…", the stats
// line, and the number of replies matched, last.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <pcj/pcj.hpp>

#include "bench_util.hpp"

namespace {

double now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 6) {
        std::fprintf(stderr, "usage: %s HOST PORT DOMAIN SECRET COUNT\n", argv[0]);
        return 2;
    }
    pcj::Config config;
    config.connection_type = pcj::ConnectionType::JABBERD14_COMPONENT;
    config.ip = argv[1];
    config.port = static_cast<std::uint16_t>(std::atoi(argv[2]));
    config.hostname = argv[3];
    config.password = argv[4];
    const std::size_t total = std::strtoull(argv[5], nullptr, 10);
    try {
        pcj::Component component(config);
        std::size_t matched = 0;
        std::size_t failed = 0;
        double cpu_ready = 0, cpu_sent = 0, cpu_first = 0, cpu_last = 0;
        double wall_first = 0, wall_last = 0;
        const pcj::Handler on_reply = [&](const pcj::Event& e) {
            if (e.node == nullptr || e.node->attr("type") != "result") {
                ++failed;
                return;
            }
            if (matched++ == 0) {
                cpu_first = bench::cpu_seconds();
                wall_first = now();
            }
            if (matched == total) {
                cpu_last = bench::cpu_seconds();
                wall_last = now();
            }
        };
        auto on_ready = component.subscribe(pcj::ev::READY, [&](const pcj::Event&) {
            cpu_ready = bench::cpu_seconds();
            const pcj::Node ping = pcj::build("iq")
                                       .attr("type", "get")
                                       .attr("from", config.hostname)
                                       .attr("to", "example.net")
                                       .child(pcj::build("ping", "urn:xmpp:ping"));
            for (std::size_t i = 0; i < total; ++i) {
                component.return_to_sender(ping, on_reply);
            }
            cpu_sent = bench::cpu_seconds();
        });
        component.connect();
        component.run();
        const double cpu_end = bench::cpu_seconds();
        std::printf("rts requests=%zu failed=%zu request_cpu=%.6f reply_cpu=%.6f "
                    "reply_seconds=%.6f\n",
                    total, failed, cpu_sent - cpu_ready, cpu_last - cpu_first,
                    wall_last - wall_first);
        bench::print_stats(cpu_end - cpu_ready);
        std::printf("%zu\n", matched);
        return matched == total ? 0 : 1;
    } catch (const pcj::Error& e) {
        std::fprintf(stderr, "pcj_rts: %s\n", e.what());
        return 1;
    }
}
