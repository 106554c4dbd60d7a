// strophe_login: libstrophe's login cost — COUNT sequential full XMPP logins, then a count.
//
//   strophe_login HOST PORT JID PASSWORD COUNT CAFILE [--pin sha256:HEX]...
//
// Each login is a new connection object on one context (libstrophe's usual use): TCP, STARTTLS
// required, the certificate verified, SASL (libstrophe picks the strongest mechanism the server
// offers, so the server decides which one is measured), bind, session, then a clean
// disconnect. CAFILE "system" leaves libstrophe on the system trust store; since the test
// servers' CA is not in it, a certificate-failure handler accepts the certificate named by a
// --pin (the store is still loaded and the chain still checked; libstrophe hands the handler
// the certificate it could not verify, which is the chain's CA). Debian's libstrophe is built on
// OpenSSL and loads the system store for every connection, CAFILE or not. Prints "login ok=…
// failed=… cpu_first_ms=… cpu_rest_ms=… wall_ms=…", the stats line, and the number that succeeded,
// last.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <strophe.h>

#include "bench_util.hpp"

namespace {

// "sha256:hex" pins, compared with libstrophe's fingerprint of the certificate it could not
// verify (with the test servers: their CA, the issuer missing from the system store).
std::vector<std::string> g_pins;

double now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

struct Attempt {
    xmpp_ctx_t* ctx = nullptr;
    bool connected = false;
};

void on_conn(xmpp_conn_t* conn, xmpp_conn_event_t event, int, xmpp_stream_error_t*,
             void* userdata) {
    auto* a = static_cast<Attempt*>(userdata);
    if (event == XMPP_CONN_CONNECT) {
        a->connected = true;
        xmpp_disconnect(conn);
        return;
    }
    if (event == XMPP_CONN_DISCONNECT || event == XMPP_CONN_FAIL) {
        xmpp_stop(a->ctx);
    }
}

std::string hex_only(const char* text) {
    std::string out;
    for (const char* p = text; p != nullptr && *p != '\0'; ++p) {
        if (*p != ':') {
            out += static_cast<char>(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
        }
    }
    return out;
}

int accept_pinned(const xmpp_tlscert_t* cert, const char* const) {
    const std::string fp = hex_only(xmpp_tlscert_get_string(cert, XMPP_CERT_FINGERPRINT_SHA256));
    for (const std::string& pin : g_pins) {
        if (fp == pin.substr(pin.find(':') + 1)) {
            return 1;
        }
    }
    return 0;
}

bool login_once(xmpp_ctx_t* ctx, char** argv, bool system_store) {
    Attempt attempt;
    attempt.ctx = ctx;
    xmpp_conn_t* conn = xmpp_conn_new(ctx);
    xmpp_conn_set_jid(conn, argv[3]);
    xmpp_conn_set_pass(conn, argv[4]);
    xmpp_conn_set_flags(conn, XMPP_CONN_FLAG_MANDATORY_TLS);
    if (system_store) {
        xmpp_conn_set_certfail_handler(conn, accept_pinned);
    } else {
        xmpp_conn_set_cafile(conn, argv[6]);
    }
    const bool started =
        xmpp_connect_client(conn, argv[1], static_cast<unsigned short>(std::atoi(argv[2])), on_conn,
                            &attempt) == XMPP_EOK;
    if (started) {
        xmpp_run(ctx);
    }
    xmpp_conn_release(conn);
    return attempt.connected;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 7) {
        std::fprintf(stderr,
                     "usage: %s HOST PORT JID PASSWORD COUNT CAFILE|system [--pin sha256:HEX]\n",
                     argv[0]);
        return 2;
    }
    for (int i = 7; i + 1 < argc; i += 2) {
        if (std::string(argv[i]) == "--pin") {
            g_pins.emplace_back(argv[i + 1]);
        }
    }
    const bool system_store = std::string(argv[6]) == "system";
    const std::size_t total = std::strtoull(argv[5], nullptr, 10);
    const double cpu0 = bench::cpu_seconds();
    const double wall0 = now();
    xmpp_initialize();
    xmpp_ctx_t* ctx = xmpp_ctx_new(nullptr, nullptr);
    std::vector<double> cpu;
    std::size_t ok = 0;
    for (std::size_t i = 0; i < total; ++i) {
        const double before = i == 0 ? cpu0 : bench::cpu_seconds();
        ok += login_once(ctx, argv, system_store) ? 1 : 0;
        cpu.push_back(bench::cpu_seconds() - before);
    }
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    const double wall = now() - wall0;
    double rest = 0;
    for (std::size_t i = 1; i < cpu.size(); ++i) {
        rest += cpu[i];
    }
    std::printf("login ok=%zu failed=%zu cpu_first_ms=%.3f cpu_rest_ms=%.3f wall_ms=%.3f\n", ok,
                total - ok, cpu.empty() ? 0.0 : cpu[0] * 1e3,
                cpu.size() > 1 ? rest / static_cast<double>(cpu.size() - 1) * 1e3 : 0.0,
                total ? wall / static_cast<double>(total) * 1e3 : 0.0);
    bench::print_stats(bench::cpu_seconds() - cpu0);
    std::printf("%zu\n", ok);
    return ok == total ? 0 : 1;
}
