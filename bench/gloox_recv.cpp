// gloox_recv: gloox's receive benchmark client — counts <message/> in a MessageHandler.
//
//   gloox_recv HOST PORT DOMAIN SECRET
//
// A gloox::Component (XEP-0114) with a registered MessageHandler (gloox's normal public path),
// driven by connect(false) and recv() until the disconnect that follows the server's stream
// end. Prints "stats cpu_seconds=… peak_rss_kb=…" (CPU from onConnect to the end) and the
// count, last.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <gloox/component.h>
#include <gloox/connectionlistener.h>
#include <gloox/message.h>
#include <gloox/messagehandler.h>

#include "bench_util.hpp"

namespace {

class Counter : public gloox::MessageHandler, public gloox::ConnectionListener {
public:
    void handleMessage(const gloox::Message&, gloox::MessageSession*) override { ++messages; }
    void onConnect() override {
        connected = true;
        cpu_at_connect = bench::cpu_seconds();
    }
    void onDisconnect(gloox::ConnectionError e) override {
        done = true;
        error = e;
    }
    bool onTLSConnect(const gloox::CertInfo&) override { return true; }

    std::size_t messages = 0;
    double cpu_at_connect = 0;
    bool connected = false;
    bool done = false;
    gloox::ConnectionError error = gloox::ConnNoError;
};

} // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: %s HOST PORT DOMAIN SECRET\n", argv[0]);
        return 2;
    }
    Counter counter;
    gloox::Component component("jabber:component:accept", argv[1], argv[3], argv[4],
                               std::atoi(argv[2]));
    component.registerMessageHandler(&counter);
    component.registerConnectionListener(&counter);
    if (!component.connect(false)) {
        std::fprintf(stderr, "gloox_recv: connect failed\n");
        return 1;
    }
    while (!counter.done) {
        if (component.recv(1000000) != gloox::ConnNoError) {
            break;
        }
    }
    const double cpu = bench::cpu_seconds() - counter.cpu_at_connect;
    if (!counter.connected) {
        std::fprintf(stderr, "gloox_recv: never connected (error %d)\n",
                     static_cast<int>(counter.error));
        return 1;
    }
    bench::print_stats(cpu);
    std::printf("%zu\n", counter.messages);
    return 0;
}
