// strophe_acks: libstrophe's side of bench/acks.sh — an XMPP client sends COUNT messages to
// the stanza source's c2s sink, with or without XEP-0198 stream management.
//
//   strophe_acks HOST PORT JID PASSWORD COUNT [--sm on|off]
//
// Logs in without TLS (XMPP_CONN_FLAG_DISABLE_TLS; the sink offers only SASL PLAIN), with
// stream management on (libstrophe's default when the server offers it) or off
// (XMPP_CONN_FLAG_DISABLE_SM). libstrophe 0.12 has no ack cadence to configure: it queues an
// <r/> behind every stanza it sends, and keeps each sent stanza until an <a h/> covers it; nor
// a per-stanza report, so the end is read from the connection: with stream management, the
// server's <a h/> reaching COUNT (h counts from <enable/>, so sending starts at <enabled/>);
// without, libstrophe's send queue empty (xmpp_conn_send_queue_len). Stanzas are parsed once
// into 4,096 templates and sent with xmpp_send(), 1,000 per xmpp_run_once() turn. Then a clean
// disconnect. Prints "acks sm=… wall_seconds=… acked=…", the stats line (CPU from the first
// send to the end) and, last, the count reached (h, or the stanzas sent without stream
// management).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <strophe.h>

#include "bench_util.hpp"
#include "stanzas.hpp"

namespace {

double now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

struct Run {
    xmpp_ctx_t* ctx = nullptr;
    xmpp_conn_t* conn = nullptr;
    std::vector<xmpp_stanza_t*> templates;
    bool sm = true;
    std::size_t total = 0;
    std::size_t issued = 0;
    unsigned long acked = 0; // the server's last h
    bool sending = false;
    bool closing = false;
    bool over = false;
    double cpu_start = 0;
    double wall_start = 0;
};

void start_sending(Run& r) {
    r.sending = true;
    r.cpu_start = bench::cpu_seconds();
    r.wall_start = now();
}

int on_enabled(xmpp_conn_t*, xmpp_stanza_t*, void* userdata) {
    start_sending(*static_cast<Run*>(userdata));
    return 0; // once
}

int on_ack(xmpp_conn_t*, xmpp_stanza_t* stanza, void* userdata) {
    auto* r = static_cast<Run*>(userdata);
    const char* h = xmpp_stanza_get_attribute(stanza, "h");
    r->acked = h != nullptr ? std::strtoul(h, nullptr, 10) : r->acked;
    return 1;
}

void on_conn(xmpp_conn_t* conn, xmpp_conn_event_t event, int, xmpp_stream_error_t*,
             void* userdata) {
    auto* r = static_cast<Run*>(userdata);
    if (event != XMPP_CONN_CONNECT) {
        r->over = true;
        return;
    }
    if (r->sm) {
        xmpp_handler_add(conn, on_enabled, XMPP_NS_SM, "enabled", nullptr, r);
        xmpp_handler_add(conn, on_ack, XMPP_NS_SM, "a", nullptr, r);
    } else {
        start_sending(*r);
    }
}

std::vector<xmpp_stanza_t*> make_templates(xmpp_ctx_t* ctx, const std::string& domain) {
    bench::StanzaOptions so;
    so.domain = domain;
    const bench::StanzaBlock block = bench::generate_stanzas(4096, so);
    std::vector<xmpp_stanza_t*> out;
    std::size_t begin = 0;
    for (std::size_t end : block.ends) {
        const std::string text = block.bytes.substr(begin, end - begin);
        out.push_back(xmpp_stanza_new_from_string(ctx, text.c_str()));
        begin = end;
    }
    return out;
}

// One turn's work after xmpp_run_once(): send up to 1,000, or end once everything is through.
void step(Run& r) {
    if (!r.sending || r.closing) {
        return;
    }
    const std::size_t end = std::min(r.total, r.issued + 1000);
    while (r.issued < end) {
        xmpp_send(r.conn, r.templates[r.issued % r.templates.size()]);
        ++r.issued;
    }
    const bool through =
        r.issued == r.total && (r.sm ? r.acked >= r.total : xmpp_conn_send_queue_len(r.conn) == 0);
    if (through) {
        r.closing = true;
        xmpp_disconnect(r.conn);
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 6 || (argc != 6 && (argc != 8 || std::strcmp(argv[6], "--sm") != 0))) {
        std::fprintf(stderr, "usage: %s HOST PORT JID PASSWORD COUNT [--sm on|off]\n", argv[0]);
        return 2;
    }
    xmpp_initialize();
    Run r;
    r.sm = argc == 6 || std::strcmp(argv[7], "off") != 0;
    r.total = std::strtoull(argv[5], nullptr, 10);
    r.ctx = xmpp_ctx_new(nullptr, nullptr);
    r.conn = xmpp_conn_new(r.ctx);
    const std::string jid = argv[3];
    r.templates =
        make_templates(r.ctx, jid.substr(jid.find('@') + 1, jid.find('/') - jid.find('@') - 1));
    xmpp_conn_set_flags(r.conn,
                        XMPP_CONN_FLAG_DISABLE_TLS | (r.sm ? 0 : XMPP_CONN_FLAG_DISABLE_SM));
    xmpp_conn_set_jid(r.conn, argv[3]);
    xmpp_conn_set_pass(r.conn, argv[4]);
    if (xmpp_connect_client(r.conn, argv[1], static_cast<unsigned short>(std::atoi(argv[2])),
                            on_conn, &r) != 0) {
        std::fprintf(stderr, "strophe_acks: connect failed\n");
        return 1;
    }
    while (!r.over) {
        // No wait while there is something to send or still queued (xmpp_run_once writes
        // before it waits, so a wait would follow the last write); else until the socket
        // has news (the acks).
        const bool busy =
            r.sending && !r.closing && (r.issued < r.total || xmpp_conn_send_queue_len(r.conn) > 0);
        xmpp_run_once(r.ctx, busy ? 0 : 100);
        step(r);
    }
    const double cpu = bench::cpu_seconds() - r.cpu_start;
    const double wall = now() - r.wall_start;
    const bool started = r.sending;
    for (xmpp_stanza_t* s : r.templates) {
        xmpp_stanza_release(s);
    }
    xmpp_conn_release(r.conn);
    xmpp_ctx_free(r.ctx);
    xmpp_shutdown();
    if (!started) {
        std::fprintf(stderr, "strophe_acks: never started sending (no login%s)\n",
                     r.sm ? ", or no <enabled/>" : "");
        return 1;
    }
    std::printf("acks sm=%s wall_seconds=%.6f acked=%lu\n", r.sm ? "on" : "off", wall, r.acked);
    bench::print_stats(cpu);
    std::printf("%zu\n", r.sm ? static_cast<std::size_t>(r.acked) : r.issued);
    return 0;
}
