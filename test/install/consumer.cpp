// consumer: a program built against an installed pcj, as an application would build it (see
// scripts/test-install.sh). It embeds pcj in its own libuv loop: on that loop it also runs a
// tiny XEP-0114 server on 127.0.0.1, which a JABBERD14_COMPONENT connects to, completes the
// handshake with and shuts down cleanly. It calls libuv itself, so it links only if pkg-config
// names libuv, and it catches pcj::ConfigError thrown inside the shared library, which works
// only when the exception's type information is exported.
//
// Exits 0 when the component reached PCJ_READY, shut down, and the loop closed with nothing
// left on it; otherwise prints why and exits 1.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include <arpa/inet.h>
#include <pcj/pcj.hpp>
#include <uv.h>

namespace {

// The server's side of one connection: answers pcj's stream header with its own, any
// <handshake> with an empty <handshake/> (accepted without checking the digest) and the
// closing tag with its own, then closes.
struct Peer {
    uv_tcp_t listener{};
    uv_tcp_t client{};
    bool accepted = false;
    bool header_sent = false;
    std::string received;
};

void write_text(uv_tcp_t* tcp, std::string_view text) {
    auto* req = new uv_write_t;
    auto* copy = new std::string(text);
    req->data = copy;
    uv_buf_t buf = uv_buf_init(copy->data(), static_cast<unsigned>(copy->size()));
    uv_write(req, reinterpret_cast<uv_stream_t*>(tcp), &buf, 1, [](uv_write_t* r, int) {
        delete static_cast<std::string*>(r->data);
        delete r;
    });
}

void on_read(uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
    auto* peer = static_cast<Peer*>(stream->data);
    if (n > 0) {
        peer->received.append(buf->base, static_cast<std::size_t>(n));
    }
    delete[] buf->base;
    if (n < 0) {
        uv_close(reinterpret_cast<uv_handle_t*>(stream), nullptr);
        return;
    }
    if (!peer->header_sent && peer->received.find("<stream:stream") != std::string::npos) {
        peer->header_sent = true;
        write_text(&peer->client, "<?xml version='1.0'?><stream:stream "
                                  "xmlns:stream='http://etherx.jabber.org/streams' "
                                  "xmlns='jabber:component:accept' id='consumer-stream' "
                                  "from='consumer.localhost'>");
    }
    if (peer->received.find("</handshake>") != std::string::npos) {
        peer->received.erase(0, peer->received.find("</handshake>") + 12);
        write_text(&peer->client, "<handshake/>");
    }
    if (peer->received.find("</stream:stream>") != std::string::npos) {
        write_text(&peer->client, "</stream:stream>");
        uv_read_stop(stream);
        uv_close(reinterpret_cast<uv_handle_t*>(stream), nullptr);
    }
}

void on_connection(uv_stream_t* server, int status) {
    auto* peer = static_cast<Peer*>(server->data);
    if (status < 0 || peer->accepted) {
        return;
    }
    uv_tcp_init(server->loop, &peer->client);
    peer->client.data = peer;
    if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&peer->client)) != 0) {
        uv_close(reinterpret_cast<uv_handle_t*>(&peer->client), nullptr);
        return;
    }
    peer->accepted = true;
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&peer->client),
        [](uv_handle_t*, std::size_t size, uv_buf_t* buf) {
            *buf = uv_buf_init(new char[size], static_cast<unsigned>(size));
        },
        on_read);
}

int fail(const std::string& why) {
    std::fprintf(stderr, "consumer: %s\n", why.c_str());
    return 1;
}

} // namespace

int main() {
    const std::string running(pcj::version());
    std::printf("pcj %s (headers %s)\n", running.c_str(), PCJ_VERSION_STRING);
    if (running != PCJ_VERSION_STRING) {
        return fail("the library's version differs from its headers'");
    }

    // An exception thrown inside the library, caught here by its type.
    try {
        pcj::Component unusable{pcj::Config{}};
        return fail("an empty Config was accepted");
    } catch (const pcj::ConfigError& e) {
        std::printf("ConfigError caught: %s\n", e.what());
    }

    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0) {
        return fail("uv_loop_init failed");
    }
    Peer peer;
    uv_tcp_init(&loop, &peer.listener);
    peer.listener.data = &peer;
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", 0, &addr);
    if (uv_tcp_bind(&peer.listener, reinterpret_cast<const sockaddr*>(&addr), 0) != 0 ||
        uv_listen(reinterpret_cast<uv_stream_t*>(&peer.listener), 1, on_connection) != 0) {
        return fail("cannot listen on 127.0.0.1");
    }
    sockaddr_in bound{};
    int len = sizeof bound;
    uv_tcp_getsockname(&peer.listener, reinterpret_cast<sockaddr*>(&bound), &len);

    pcj::Config config;
    config.connection_type = pcj::ConnectionType::JABBERD14_COMPONENT;
    config.ip = "127.0.0.1";
    config.port = ntohs(bound.sin_port);
    config.hostname = "consumer.localhost";
    config.password = "secret";
    config.shutdown_timeout = std::chrono::milliseconds(2'000);

    bool ready = false;
    bool finished = false;
    std::string failure;
    {
        auto component = std::make_unique<pcj::Component>(config, &loop);
        auto on_ready = component->subscribe(pcj::ev::READY, [&](const pcj::Event&) {
            ready = true;
            component->shutdown();
        });
        auto on_finish = component->subscribe(pcj::ev::SHUTDOWN_FINISH, [&](const pcj::Event&) {
            finished = true;
            uv_stop(&loop);
        });
        auto on_fail = component->subscribe(pcj::ev::SOCKETFAIL, [&](const pcj::Event& e) {
            failure = e.reason != nullptr ? e.reason->to_string() : "socket failure";
            uv_stop(&loop);
        });
        // A deadline, so that a broken library cannot hang the test.
        uv_timer_t deadline;
        uv_timer_init(&loop, &deadline);
        uv_timer_start(
            &deadline, [](uv_timer_t* t) { uv_stop(t->loop); }, 10'000, 0);
        component->connect();
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_close(reinterpret_cast<uv_handle_t*>(&deadline), nullptr);
    }
    // The component is gone; close what the program itself opened and let libuv finish.
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&peer.listener))) {
        uv_close(reinterpret_cast<uv_handle_t*>(&peer.listener), nullptr);
    }
    if (peer.accepted && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&peer.client))) {
        uv_close(reinterpret_cast<uv_handle_t*>(&peer.client), nullptr);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    const int closed = uv_loop_close(&loop);

    if (!ready) {
        return fail("the component never reached PCJ_READY" +
                    (failure.empty() ? std::string() : ": " + failure));
    }
    if (!finished) {
        return fail("the component did not finish its shutdown");
    }
    if (closed != 0) {
        return fail(std::string("uv_loop_close: ") + uv_strerror(closed));
    }
    std::printf("READY, shut down, loop closed\n");
    return 0;
}
