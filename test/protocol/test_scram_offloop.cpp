// SCRAM's PBKDF2 off the loop thread: while one connection hashes a large (allowed) iteration
// count, another connection on the same loop logs in; and a count above the cap ends the login
// at once. The SCRAM server here is a few lines over libuv, because its challenge must carry
// the client's nonce, which a fixed script cannot know.
#include <catch2/catch.hpp>

#include <gsasl.h>

#include <memory>
#include <string>

#include "configs.hpp"
#include "scripted_peer.hpp"
#include "scripts.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

const std::string scram_features =
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
    "<mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>";

// Answers one client: its header and SCRAM-SHA-1, then a server-first-message with the
// client's nonce and `iterations`; notes when the client's <response/> arrives.
class ScramPeer {
public:
    ScramPeer(uv_loop_t* loop, std::string iterations) : iterations_(std::move(iterations)) {
        uv_tcp_init(loop, &server_);
        server_.data = this;
        sockaddr_in addr{};
        uv_ip4_addr("127.0.0.1", 0, &addr);
        REQUIRE(uv_tcp_bind(&server_, reinterpret_cast<const sockaddr*>(&addr), 0) == 0);
        REQUIRE(uv_listen(reinterpret_cast<uv_stream_t*>(&server_), 4, on_connection) == 0);
        sockaddr_storage bound{};
        int len = sizeof bound;
        uv_tcp_getsockname(&server_, reinterpret_cast<sockaddr*>(&bound), &len);
        port_ = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    }
    // The handles live in this object: they must be closed before it goes.
    ~ScramPeer() {
        uv_loop_t* loop = server_.loop;
        int open = 1;
        server_.data = &open;
        uv_close(reinterpret_cast<uv_handle_t*>(&server_), on_closed);
        if (accepted_) {
            ++open;
            client_.data = &open;
            uv_close(reinterpret_cast<uv_handle_t*>(&client_), on_closed);
        }
        while (open > 0)
            uv_run(loop, UV_RUN_ONCE);
    }
    std::uint16_t port() const { return port_; }
    bool challenged() const { return challenged_; }
    bool responded() const { return received_.find("</response>") != std::string::npos; }

private:
    static void on_closed(uv_handle_t* h) { --*static_cast<int*>(h->data); }
    static void on_connection(uv_stream_t* server, int status) {
        auto* self = static_cast<ScramPeer*>(server->data);
        if (status != 0 || self->accepted_)
            return;
        self->accepted_ = true;
        uv_tcp_init(server->loop, &self->client_);
        self->client_.data = self;
        auto* stream = reinterpret_cast<uv_stream_t*>(&self->client_);
        if (uv_accept(server, stream) == 0)
            uv_read_start(stream, on_alloc, on_read);
    }
    static void on_alloc(uv_handle_t* h, std::size_t, uv_buf_t* buf) {
        auto* self = static_cast<ScramPeer*>(h->data);
        *buf = uv_buf_init(self->buffer_, sizeof self->buffer_);
    }
    static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t*) {
        auto* self = static_cast<ScramPeer*>(s->data);
        if (n > 0) {
            self->received_.append(self->buffer_, static_cast<std::size_t>(n));
            self->advance();
        }
    }
    void write(std::string text) {
        auto* req = new uv_write_t;
        auto* data = new std::string(std::move(text));
        req->data = data;
        uv_buf_t buf = uv_buf_init(data->data(), static_cast<unsigned>(data->size()));
        uv_write(req, reinterpret_cast<uv_stream_t*>(&client_), &buf, 1, [](uv_write_t* r, int) {
            delete static_cast<std::string*>(r->data);
            delete r;
        });
    }
    void advance() {
        if (!sent_header_ && received_.find("<stream:stream") != std::string::npos) {
            sent_header_ = true;
            write(client_header + scram_features);
        }
        const auto end = received_.find("</auth>");
        if (challenged_ || end == std::string::npos)
            return;
        const auto start = received_.rfind('>', end) + 1;
        char* decoded = nullptr;
        std::size_t len = 0;
        REQUIRE(gsasl_base64_from(received_.data() + start, end - start, &decoded, &len) ==
                GSASL_OK);
        const std::string first(decoded, len);
        gsasl_free(decoded);
        const std::string nonce = first.substr(first.find(",r=") + 3);
        const std::string server_first = "r=" + nonce + "srv,s=c2FsdG9mZmxvb3A=,i=" + iterations_;
        char* encoded = nullptr;
        REQUIRE(gsasl_base64_to(server_first.data(), server_first.size(), &encoded, nullptr) ==
                GSASL_OK);
        write(std::string("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>") + encoded +
              "</challenge>");
        gsasl_free(encoded);
        challenged_ = true;
    }

    std::string iterations_;
    uv_tcp_t server_{};
    uv_tcp_t client_{};
    bool accepted_ = false;
    std::uint16_t port_ = 0;
    char buffer_[65536];
    std::string received_;
    bool sent_header_ = false;
    bool challenged_ = false;
};

Config scram_config(std::uint16_t port) {
    Config c = xmpp_config(port);
    c.sasl.mechanisms = {"SCRAM-SHA-1"};
    c.sasl.max_scram_iterations = 4'000'000;
    return c;
}

} // namespace

TEST_CASE("scram: hashing a large allowed count does not stall another connection on the loop",
          "[protocol][scram][hostile]") {
    LoopFixture f;
    // Most of a second of PBKDF2-SHA-1: allowed, and far longer than a login.
    ScramPeer slow(f.loop(), "1000000");
    Component a(scram_config(slow.port()), f.loop());
    Recorder rec_a(a);
    a.connect();
    REQUIRE(f.run_until([&] { return slow.challenged(); }, 10s));

    ScriptedPeer peer(f.loop());
    xmpp_login(peer);
    Component b(xmpp_config(peer.port()), f.loop());
    Recorder rec_b(b);
    b.connect();
    REQUIRE(f.run_until([&] { return rec_b.has(ev::READY) || ended(b); }, 10s));
    INFO(failures(rec_b));
    REQUIRE(rec_b.has(ev::READY));
    // B got through while A's response was still being computed...
    CHECK_FALSE(slow.responded());
    // ...which does arrive once the hashing is done.
    // (A generous deadline: on a busy machine the hashing thread gets little of a core.)
    CHECK(f.run_until([&] { return slow.responded() || ended(a); }, 120s));
    CHECK(slow.responded());
}

TEST_CASE("scram: a count above max_scram_iterations ends the login at once",
          "[protocol][scram][hostile]") {
    LoopFixture f;
    ScramPeer hostile(f.loop(), "20000000"); // blocked a loop for 14 s before the cap
    Component c(scram_config(hostile.port()), f.loop());
    Recorder rec(c);
    c.connect();
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(f.run_until([&] { return ended(c); }, 10s));
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
    const Seen* fail = rec.last(ev::AUTHFAIL);
    REQUIRE(fail);
    REQUIRE(fail->reason);
    CHECK(fail->reason->condition == "iteration-count-refused");
    CHECK_FALSE(hostile.responded());
}
