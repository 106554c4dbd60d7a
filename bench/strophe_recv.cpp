// strophe_recv: libstrophe's receive benchmark client — counts <message/> in a stanza handler.
//
//   strophe_recv HOST PORT DOMAIN SECRET
//
// Connects with xmpp_connect_component(), counts every <message/> through xmpp_handler_add()
// (libstrophe's normal public handler path), stops at the disconnect that follows the server's
// stream end. Prints "stats cpu_seconds=… peak_rss_kb=…" (CPU from the connect event to the
// end) and the count, last.
//
// libstrophe 0.12.2's component mode dereferences the connection's stream-management state on
// every inbound stanza, but only xmpp_connect_client() creates one, so the first stanza crashes
// a component. The workaround stays inside the public API: xmpp_connect_client() with an
// empty JID fails at once (no network), but only after it has given the connection an SM state,
// and the connection stays disconnected; xmpp_connect_component() then keeps that state.
#include <cstdio>
#include <cstdlib>

#include <strophe.h>

#include "bench_util.hpp"

namespace {

struct Counter {
    xmpp_ctx_t* ctx = nullptr;
    std::size_t messages = 0;
    double cpu_at_connect = 0;
    bool connected = false;
};

int on_message(xmpp_conn_t*, xmpp_stanza_t*, void* userdata) {
    ++static_cast<Counter*>(userdata)->messages;
    return 1; // keep the handler
}

void on_conn(xmpp_conn_t* conn, xmpp_conn_event_t event, int, xmpp_stream_error_t*,
             void* userdata) {
    auto* c = static_cast<Counter*>(userdata);
    if (event == XMPP_CONN_CONNECT) {
        c->connected = true;
        c->cpu_at_connect = bench::cpu_seconds();
        xmpp_handler_add(conn, on_message, nullptr, "message", nullptr, c);
        return;
    }
    xmpp_stop(c->ctx);
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: %s HOST PORT DOMAIN SECRET\n", argv[0]);
        return 2;
    }
    xmpp_initialize();
    Counter counter;
    counter.ctx = xmpp_ctx_new(nullptr, nullptr);
    xmpp_conn_t* conn = xmpp_conn_new(counter.ctx);
    xmpp_conn_set_jid(conn, "");
    if (xmpp_connect_client(conn, nullptr, 0, nullptr, nullptr) == 0 ||
        !xmpp_conn_is_disconnected(conn)) {
        std::fprintf(stderr, "strophe_recv: the stream-management workaround no longer applies\n");
        return 1;
    }
    xmpp_conn_set_jid(conn, argv[3]);
    xmpp_conn_set_pass(conn, argv[4]);
    if (xmpp_connect_component(conn, argv[1], static_cast<unsigned short>(std::atoi(argv[2])),
                               on_conn, &counter) != 0) {
        std::fprintf(stderr, "strophe_recv: connect failed\n");
        return 1;
    }
    xmpp_run(counter.ctx);
    const double cpu = bench::cpu_seconds() - counter.cpu_at_connect;
    xmpp_conn_release(conn);
    xmpp_ctx_free(counter.ctx);
    xmpp_shutdown();
    if (!counter.connected) {
        std::fprintf(stderr, "strophe_recv: never connected\n");
        return 1;
    }
    bench::print_stats(cpu);
    std::printf("%zu\n", counter.messages);
    return 0;
}
