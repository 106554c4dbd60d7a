// pcj_idle: idle connections — M logged-in XMPP connections held by one process on one loop.
//
//   pcj_idle HOST PORT DOMAIN USERS M CAFILE HOLD_SECONDS [--mech NAME] [--window N]
//
// USERS is "user:password[,user:password…]"; the M components (one libuv loop, shared TLS
// credentials) use them in turn, each with its own generated resource. Logins run N at a time
// (default 64). Once every connection is READY (or failed) they are held HOLD_SECONDS; at the end
// of the hold, still connected, the RSS they added is divided by M: rss_held_per_conn_kb as it
// stands, rss_per_conn_kb after glibc's malloc_trim(0) has handed free pages back (strophe_idle
// measures the same way), rss_ready_per_conn_kb right after the last login, and heap_per_conn_kb:
// the malloc'd bytes still in use at the end of the hold (mallinfo2). Then they are
// shut down. Prints "idle connections=… ready=… failed=… rss_per_conn_kb=…
// rss_held_per_conn_kb=… rss_ready_per_conn_kb=… heap_per_conn_kb=… cpu_per_login_ms=…
// login_seconds=…", the stats line, and the number of connections that reached READY, last. CAFILE
// "system" uses the system trust store.
#include <malloc.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <pcj/pcj.hpp>
#include <uv.h>

#include "bench_util.hpp"

namespace {

double now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

struct Options {
    std::string host, domain, ca_file, mech;
    std::uint16_t port = 0;
    std::vector<std::pair<std::string, std::string>> users;
    std::size_t count = 0;
    double hold = 0;
    std::size_t window = 64;
};

struct Fleet {
    Options opt;
    uv_loop_t* loop = nullptr;
    std::vector<std::unique_ptr<pcj::Component>> components;
    std::vector<pcj::Subscription> subs;
    std::size_t started = 0, ready = 0, failed = 0, closed = 0;
    bool holding = false;
    double cpu0 = 0, wall0 = 0, cpu_logins = 0, wall_logins = 0;
    long rss0 = 0, rss_ready = 0, rss_held = 0, rss_trimmed = 0;
    double heap0 = 0, heap_held = 0; // bytes malloc has handed out and not had back
    uv_timer_t hold_timer{};
    std::string last_failure;
};

void start_more(Fleet& f);

void all_settled(Fleet& f) {
    f.cpu_logins = bench::cpu_seconds() - f.cpu0;
    f.wall_logins = now() - f.wall0;
    f.rss_ready = bench::current_rss_kb();
    f.holding = true;
    uv_timer_start(
        &f.hold_timer,
        [](uv_timer_t* t) {
            auto* fleet = static_cast<Fleet*>(t->data);
            fleet->heap_held = static_cast<double>(mallinfo2().uordblks);
            fleet->rss_held = bench::current_rss_kb();
            malloc_trim(0);
            fleet->rss_trimmed = bench::current_rss_kb();
            for (auto& c : fleet->components) {
                c->shutdown();
            }
        },
        static_cast<std::uint64_t>(f.opt.hold * 1000), 0);
}

void settled_one(Fleet& f, bool ok) {
    ++(ok ? f.ready : f.failed);
    if (f.ready + f.failed == f.opt.count) {
        all_settled(f);
    } else {
        start_more(f);
    }
}

pcj::Config make_config(const Options& o, std::size_t i) {
    pcj::Config config;
    config.connection_type = pcj::ConnectionType::XMPP;
    config.ip = o.host;
    config.port = o.port;
    config.hostname = o.domain;
    const auto& user = o.users[i % o.users.size()];
    config.username = user.first;
    config.password = user.second;
    if (o.ca_file != "system") {
        config.tls.ca_file = o.ca_file;
    }
    if (!o.mech.empty()) {
        config.sasl.mechanisms.push_back(o.mech);
    }
    config.negotiation_timeout = std::chrono::seconds(120);
    return config;
}

void add_component(Fleet& f) {
    const std::size_t i = f.components.size();
    f.components.push_back(std::make_unique<pcj::Component>(make_config(f.opt, i), f.loop));
    pcj::Component& c = *f.components.back();
    auto settled = std::make_shared<bool>(false);
    f.subs.push_back(c.subscribe(pcj::ev::READY, [&f, settled](const pcj::Event&) {
        *settled = true;
        settled_one(f, true);
    }));
    f.subs.push_back(c.subscribe(pcj::ev::SOCKETDISCONNECT, [&f, settled](const pcj::Event&) {
        ++f.closed;
        if (!*settled) {
            *settled = true;
            settled_one(f, false);
        }
    }));
    f.subs.push_back(c.subscribe(pcj::ev::CONNECTFAIL, [&f, settled](const pcj::Event& e) {
        f.last_failure = e.reason ? e.reason->to_string() : "connect failed";
        ++f.closed;
        if (!*settled) {
            *settled = true;
            settled_one(f, false);
        }
    }));
    for (auto failure :
         {pcj::ev::AUTHFAIL, pcj::ev::SSLFAIL, pcj::ev::BINDFAIL, pcj::ev::SOCKETFAIL}) {
        f.subs.push_back(c.subscribe(failure, [&f](const pcj::Event& e) {
            f.last_failure = std::string(e.name) + " " + (e.reason ? e.reason->to_string() : "");
        }));
    }
    c.connect();
}

void start_more(Fleet& f) {
    while (f.started < f.opt.count && f.started - f.ready - f.failed < f.opt.window) {
        ++f.started;
        add_component(f);
    }
}

Options parse(int argc, char** argv) {
    Options o;
    o.host = argv[1];
    o.port = static_cast<std::uint16_t>(std::atoi(argv[2]));
    o.domain = argv[3];
    for (std::string list = argv[4]; !list.empty();) {
        const auto comma = list.find(',');
        const std::string item = list.substr(0, comma);
        const auto colon = item.find(':');
        o.users.emplace_back(item.substr(0, colon),
                             colon == std::string::npos ? "" : item.substr(colon + 1));
        list = comma == std::string::npos ? "" : list.substr(comma + 1);
    }
    o.count = std::strtoull(argv[5], nullptr, 10);
    o.ca_file = argv[6];
    o.hold = std::atof(argv[7]);
    for (int i = 8; i + 1 < argc; i += 2) {
        const std::string opt = argv[i];
        if (opt == "--mech") {
            o.mech = argv[i + 1];
        } else if (opt == "--window") {
            o.window = std::max<std::size_t>(1, std::strtoull(argv[i + 1], nullptr, 10));
        }
    }
    return o;
}

void raise_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 8) {
        std::fprintf(stderr,
                     "usage: %s HOST PORT DOMAIN USER:PASS[,…] M CAFILE|system HOLD_SECONDS "
                     "[--mech NAME] [--window N]\n",
                     argv[0]);
        return 2;
    }
    raise_fd_limit();
    Fleet f;
    f.opt = parse(argc, argv);
    uv_loop_t loop;
    uv_loop_init(&loop);
    f.loop = &loop;
    uv_timer_init(&loop, &f.hold_timer);
    f.hold_timer.data = &f;
    try {
        f.components.reserve(f.opt.count);
        f.rss0 = bench::current_rss_kb();
        f.heap0 = static_cast<double>(mallinfo2().uordblks);
        f.cpu0 = bench::cpu_seconds();
        f.wall0 = now();
        start_more(f);
        uv_run(&loop, UV_RUN_DEFAULT);
    } catch (const pcj::Error& e) {
        std::fprintf(stderr, "pcj_idle: %s\n", e.what());
        return 1;
    }
    const double n = f.opt.count ? static_cast<double>(f.opt.count) : 1.0;
    const auto per_conn = [&](long rss) {
        return static_cast<double>(rss - f.rss0) / n;
    };
    std::printf("idle connections=%zu ready=%zu failed=%zu rss_per_conn_kb=%.1f "
                "rss_held_per_conn_kb=%.1f rss_ready_per_conn_kb=%.1f heap_per_conn_kb=%.1f "
                "cpu_per_login_ms=%.3f login_seconds=%.3f\n",
                f.opt.count, f.ready, f.failed, per_conn(f.rss_trimmed), per_conn(f.rss_held),
                per_conn(f.rss_ready), (f.heap_held - f.heap0) / 1024.0 / n, f.cpu_logins / n * 1e3,
                f.wall_logins);
    if (!f.last_failure.empty()) {
        std::fprintf(stderr, "pcj_idle: last failure: %s\n", f.last_failure.c_str());
    }
    bench::print_stats(bench::cpu_seconds() - f.cpu0);
    f.subs.clear();
    f.components.clear();
    uv_close(reinterpret_cast<uv_handle_t*>(&f.hold_timer), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    std::printf("%zu\n", f.ready);
    return f.ready == f.opt.count ? 0 : 1;
}
