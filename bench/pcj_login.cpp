// pcj_login: login cost — COUNT sequential full XMPP logins with one pcj component, then a count.
//
//   pcj_login HOST PORT JID PASSWORD COUNT CAFILE [--mech NAME]... [--pin sha256:HEX]
//
// Each login: TCP, STARTTLS with the certificate verified, SASL (the mechanisms given, else
// pcj's choice), bind, session if required, then a clean shutdown; the next login starts when
// the socket is closed. CAFILE "system" uses the system trust store; the test servers' CA is
// not in it, so --pin then names the server certificate to trust (pcj still loads the store).
// One Component is reconnected, so credentials are loaded once per process (pcj's design) and
// SCRAM's salted password is reused when the server's salt and iteration count repeat.
// Prints "login ok=… failed=… cpu_first_ms=… cpu_rest_ms=… wall_ms=…", the stats line, and
// the number of logins that succeeded, last.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <pcj/pcj.hpp>
#include <uv.h>

#include "bench_util.hpp"

namespace {

double now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

struct Run {
    pcj::Component* component = nullptr;
    std::size_t total = 0;
    std::size_t started = 0;
    std::size_t ok = 0;
    std::size_t failed = 0;
    bool reached_ready = false;
    std::string last_failure;
    std::vector<double> cpu; // per attempt
    double cpu_at_start = 0;
    uv_timer_t next{};
};

void start_next(uv_timer_t* timer) {
    auto* run = static_cast<Run*>(timer->data);
    if (run->started == run->total) {
        return; // nothing left to keep the loop alive: run() returns
    }
    ++run->started;
    run->reached_ready = false;
    run->cpu_at_start = bench::cpu_seconds();
    run->component->connect();
}

void attempt_over(Run& run) {
    run.cpu.push_back(bench::cpu_seconds() - run.cpu_at_start);
    if (run.reached_ready) {
        ++run.ok;
    } else {
        ++run.failed;
    }
    // From the loop, not from inside the component's own event.
    uv_timer_start(&run.next, start_next, 0, 0);
}

pcj::Config make_config(char** argv, int argc) {
    pcj::Config config;
    config.connection_type = pcj::ConnectionType::XMPP;
    config.ip = argv[1];
    config.port = static_cast<std::uint16_t>(std::atoi(argv[2]));
    const std::string jid = argv[3];
    const auto at = jid.find('@');
    config.username = jid.substr(0, at);
    config.hostname = at == std::string::npos ? jid : jid.substr(at + 1);
    config.password = argv[4];
    config.resource = "bench";
    if (std::string(argv[6]) != "system") {
        config.tls.ca_file = argv[6];
    }
    for (int i = 7; i + 1 < argc; i += 2) {
        const std::string opt = argv[i];
        if (opt == "--mech") {
            config.sasl.mechanisms.emplace_back(argv[i + 1]);
        } else if (opt == "--pin") {
            config.tls.pins.emplace_back(argv[i + 1]);
        }
    }
    return config;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 7) {
        std::fprintf(stderr,
                     "usage: %s HOST PORT JID PASSWORD COUNT CAFILE|system [--mech NAME]... "
                     "[--pin sha256:HEX]\n",
                     argv[0]);
        return 2;
    }
    try {
        // Loading the trust store happens when the component is built: it counts as the first
        // login's cost.
        const double cpu0 = bench::cpu_seconds();
        const double wall0 = now();
        pcj::Component component(make_config(argv, argc));
        Run run;
        run.component = &component;
        run.total = std::strtoull(argv[5], nullptr, 10);
        uv_timer_init(component.loop(), &run.next);
        run.next.data = &run;
        std::vector<pcj::Subscription> subs;
        subs.push_back(component.subscribe(pcj::ev::READY, [&](const pcj::Event&) {
            run.reached_ready = true;
            component.shutdown();
        }));
        for (auto failure : {pcj::ev::AUTHFAIL, pcj::ev::SSLFAIL, pcj::ev::BINDFAIL,
                             pcj::ev::SESSIONFAIL, pcj::ev::SOCKETFAIL, pcj::ev::CONNECTFAIL}) {
            subs.push_back(component.subscribe(failure, [&run](const pcj::Event& e) {
                run.last_failure =
                    std::string(e.name) + " " + (e.reason ? e.reason->to_string() : "");
            }));
        }
        // Every attempt ends with the socket's close, or with CONNECTFAIL when there was none.
        subs.push_back(component.subscribe(pcj::ev::SOCKETDISCONNECT,
                                           [&run](const pcj::Event&) { attempt_over(run); }));
        subs.push_back(component.subscribe(pcj::ev::CONNECTFAIL,
                                           [&run](const pcj::Event&) { attempt_over(run); }));
        const double construct_cpu = bench::cpu_seconds() - cpu0;
        start_next(&run.next);
        component.run();
        const double wall = now() - wall0;
        uv_close(reinterpret_cast<uv_handle_t*>(&run.next), nullptr);
        component.run();
        if (!run.cpu.empty()) {
            run.cpu[0] += construct_cpu;
        }
        double rest = 0;
        for (std::size_t i = 1; i < run.cpu.size(); ++i) {
            rest += run.cpu[i];
        }
        std::printf("login ok=%zu failed=%zu cpu_first_ms=%.3f cpu_rest_ms=%.3f wall_ms=%.3f\n",
                    run.ok, run.failed, run.cpu.empty() ? 0.0 : run.cpu[0] * 1e3,
                    run.cpu.size() > 1 ? rest / static_cast<double>(run.cpu.size() - 1) * 1e3 : 0.0,
                    run.total ? wall / static_cast<double>(run.total) * 1e3 : 0.0);
        if (!run.last_failure.empty()) {
            std::fprintf(stderr, "pcj_login: last failure: %s\n", run.last_failure.c_str());
        }
        bench::print_stats(bench::cpu_seconds() - cpu0);
        std::printf("%zu\n", run.ok);
        return run.ok == run.total ? 0 : 1;
    } catch (const pcj::Error& e) {
        std::fprintf(stderr, "pcj_login: %s\n", e.what());
        return 1;
    }
}
