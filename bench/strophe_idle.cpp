// strophe_idle: libstrophe's idle connections — M logged-in XMPP connections on one context.
//
//   strophe_idle HOST PORT DOMAIN USERS M CAFILE HOLD_SECONDS [--window N]
//
// The same contract as pcj_idle: USERS is "user:password[,…]", used in turn; logins run N at a
// time (default 64); once every connection is logged in (or failed) they are held HOLD_SECONDS
// and, still connected, the RSS added is divided by M (rss_per_conn_kb after malloc_trim(0),
// rss_held_per_conn_kb before it, rss_ready_per_conn_kb right after the last login;
// heap_per_conn_kb: malloc'd bytes in use, from mallinfo2); then they
// are disconnected. libstrophe picks its own SASL mechanism (the server decides by what it
// offers). Prints "idle connections=… ready=… failed=… rss_per_conn_kb=… rss_held_per_conn_kb=…
// rss_ready_per_conn_kb=… heap_per_conn_kb=… cpu_per_login_ms=… login_seconds=…", the stats line,
// and the number of connections that logged in, last.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include <malloc.h>
#include <strophe.h>
#include <sys/resource.h>

#include "bench_util.hpp"

namespace {

double now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

struct Fleet {
    xmpp_ctx_t* ctx = nullptr;
    std::vector<xmpp_conn_t*> conns;
    std::vector<std::pair<std::string, std::string>> users;
    std::string host, domain, ca_file;
    unsigned short port = 0;
    std::size_t count = 0, window = 64;
    std::size_t ready = 0, failed = 0, disconnected = 0;
};

void start_more(Fleet& f);

void on_conn(xmpp_conn_t*, xmpp_conn_event_t event, int, xmpp_stream_error_t*, void* userdata) {
    auto* f = static_cast<Fleet*>(userdata);
    if (event == XMPP_CONN_CONNECT) {
        ++f->ready;
        start_more(*f);
        return;
    }
    if (event == XMPP_CONN_DISCONNECT || event == XMPP_CONN_FAIL) {
        ++f->disconnected; // while logging in, only a failed login disconnects
    }
}

void start_one(Fleet& f) {
    const std::size_t i = f.conns.size();
    xmpp_conn_t* conn = xmpp_conn_new(f.ctx);
    const auto& user = f.users[i % f.users.size()];
    const std::string jid = user.first + "@" + f.domain + "/idle" + std::to_string(i);
    xmpp_conn_set_jid(conn, jid.c_str());
    xmpp_conn_set_pass(conn, user.second.c_str());
    xmpp_conn_set_flags(conn, XMPP_CONN_FLAG_MANDATORY_TLS);
    if (f.ca_file != "system") {
        xmpp_conn_set_cafile(conn, f.ca_file.c_str());
    }
    f.conns.push_back(conn);
    if (xmpp_connect_client(conn, f.host.c_str(), f.port, on_conn, &f) != XMPP_EOK) {
        ++f.failed;
    }
}

void start_more(Fleet& f) {
    while (f.conns.size() < f.count && f.conns.size() - f.ready - f.failed < f.window) {
        start_one(f);
    }
}

// Fills the fleet from the command line (USERS is "user:password[,…]").
void parse(Fleet& f, int argc, char** argv) {
    f.host = argv[1];
    f.port = static_cast<unsigned short>(std::atoi(argv[2]));
    f.domain = argv[3];
    for (std::string list = argv[4]; !list.empty();) {
        const auto comma = list.find(',');
        const std::string item = list.substr(0, comma);
        const auto colon = item.find(':');
        f.users.emplace_back(item.substr(0, colon),
                             colon == std::string::npos ? "" : item.substr(colon + 1));
        list = comma == std::string::npos ? "" : list.substr(comma + 1);
    }
    f.count = std::strtoull(argv[5], nullptr, 10);
    f.ca_file = argv[6];
    if (argc > 9 && std::string(argv[8]) == "--window") {
        f.window = std::max<std::size_t>(1, std::strtoull(argv[9], nullptr, 10));
    }
}

// Runs the context for `seconds`, measures the RSS (as it stands, then after malloc_trim(0),
// as pcj_idle does), then disconnects everything and waits (10 s at most).
void hold_then_disconnect(Fleet& f, double seconds, long& rss_held, long& rss_trimmed,
                          double& heap_held) {
    for (const double until = now() + seconds; now() < until;) {
        xmpp_run_once(f.ctx, 100);
    }
    heap_held = static_cast<double>(mallinfo2().uordblks);
    rss_held = bench::current_rss_kb();
    malloc_trim(0);
    rss_trimmed = bench::current_rss_kb();
    for (xmpp_conn_t* conn : f.conns) {
        xmpp_disconnect(conn);
    }
    for (const double until = now() + 10; f.disconnected < f.conns.size() && now() < until;) {
        xmpp_run_once(f.ctx, 10);
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 8) {
        std::fprintf(stderr,
                     "usage: %s HOST PORT DOMAIN USER:PASS[,…] M CAFILE|system HOLD_SECONDS "
                     "[--window N]\n",
                     argv[0]);
        return 2;
    }
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    Fleet f;
    parse(f, argc, argv);
    xmpp_initialize();
    f.ctx = xmpp_ctx_new(nullptr, nullptr);
    const long rss0 = bench::current_rss_kb();
    const double heap0 = static_cast<double>(mallinfo2().uordblks);
    const double cpu0 = bench::cpu_seconds();
    const double wall0 = now();
    start_more(f);
    // Until every login has settled, a disconnect can only be a failed login.
    while (f.ready + f.failed < f.count && now() - wall0 < 600) {
        xmpp_run_once(f.ctx, 10);
        if (f.disconnected > f.failed) {
            f.failed = f.disconnected;
            start_more(f);
        }
    }
    const double cpu_logins = bench::cpu_seconds() - cpu0;
    const double wall_logins = now() - wall0;
    const long rss_ready = bench::current_rss_kb();
    long rss_held = 0, rss_trimmed = 0;
    double heap_held = 0;
    hold_then_disconnect(f, std::atof(argv[7]), rss_held, rss_trimmed, heap_held);
    const double n = f.count ? static_cast<double>(f.count) : 1.0;
    const auto per_conn = [&](long rss) {
        return static_cast<double>(rss - rss0) / n;
    };
    std::printf("idle connections=%zu ready=%zu failed=%zu rss_per_conn_kb=%.1f "
                "rss_held_per_conn_kb=%.1f rss_ready_per_conn_kb=%.1f heap_per_conn_kb=%.1f "
                "cpu_per_login_ms=%.3f login_seconds=%.3f\n",
                f.count, f.ready, f.failed, per_conn(rss_trimmed), per_conn(rss_held),
                per_conn(rss_ready), (heap_held - heap0) / 1024.0 / n, cpu_logins / n * 1e3,
                wall_logins);
    bench::print_stats(bench::cpu_seconds() - cpu0);
    for (xmpp_conn_t* conn : f.conns) {
        xmpp_conn_release(conn);
    }
    xmpp_ctx_free(f.ctx);
    xmpp_shutdown();
    std::printf("%zu\n", f.ready);
    return f.ready == f.count ? 0 : 1;
}
