// ScriptedPeer: a loopback TCP server that follows a wire script, for protocol tests.
//
// Each accepted connection is a Conn that walks the script with its own cursor. A Conn owns a
// TCP handle and a pause timer and frees itself when both have closed, so the peer may be
// destroyed while closes are still pending; the destructor cuts every back-pointer first.
#include "scripted_peer.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace pcj::test {
namespace {

constexpr std::size_t read_buffer_size = 64 * 1024;

char* read_buffer() {
    thread_local std::unique_ptr<char[]> buffer(new char[read_buffer_size]);
    return buffer.get();
}

// Shows received bytes in an error message: printable, escaped and bounded.
std::string printable(std::string_view bytes) {
    constexpr std::size_t limit = 300;
    std::string out;
    for (const char c : bytes.substr(0, limit)) {
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
            out += '.';
        } else {
            out += c;
        }
    }
    if (bytes.size() > limit) {
        out += "… (" + std::to_string(bytes.size()) + " bytes)";
    }
    return '"' + out + '"';
}

template <typename T> uv_handle_t* as_handle(T* h) {
    return reinterpret_cast<uv_handle_t*>(h);
}
template <typename T> uv_stream_t* as_stream(T* h) {
    return reinterpret_cast<uv_stream_t*>(h);
}

} // namespace

struct ScriptedPeer::Impl {
    struct Step {
        enum class Kind { expect, send, close, reset, wait_close, pause };
        Kind kind;
        std::string text;
        std::chrono::milliseconds duration{0};
    };
    struct Conn {
        uv_tcp_t tcp{};
        uv_timer_t timer{};
        int open_handles = 0;
        Impl* owner = nullptr;
        std::size_t index = 0;     // this connection's slot in received_
        std::size_t step = 0;      // next step to run
        std::size_t cursor = 0;    // expect matches start here
        std::size_t scan_from = 0; // the pending expect cannot match before this offset
        bool pausing = false;
        bool closing = false; // our side has begun to close (FIN or RST)
        bool client_closed = false;
    };
    struct Status {
        bool done = false;
        bool client_closed = false;
    };
    struct ListenBox {
        uv_tcp_t tcp{};
        Impl* owner = nullptr;
    };

    explicit Impl(uv_loop_t* l) : loop(l) {}

    void listen();
    void add(Step step);
    void advance(Conn& c);
    bool run_step(Conn& c, const Step& s);
    bool match(Conn& c, const std::string& text);
    void send(Conn& c, const std::string& text);
    std::string with_last_id(const Conn& c, const std::string& text) const;
    void begin_close(Conn& c);
    void client_gone(Conn& c);
    void fail_step(Conn& c, const Step& s);
    void stop();

    static void close_conn(Conn& c);
    static void on_connection(uv_stream_t* server, int status);
    static void on_alloc(uv_handle_t*, std::size_t, uv_buf_t* buf);
    static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t*);
    static void on_pause_end(uv_timer_t* timer);
    static void on_conn_handle_closed(uv_handle_t* handle);

    uv_loop_t* loop;
    ListenBox* listener = nullptr;
    std::uint16_t port = 0;
    std::vector<Step> script;
    std::vector<std::string> received;
    std::vector<Status> status;
    std::vector<Conn*> conns; // connections whose handles are not all closed yet
    bool failed = false;
    std::string error;
};

// ---------------------------------------------------------------------------------------------
// Listening and accepting

void ScriptedPeer::Impl::listen() {
    auto* box = new ListenBox;
    uv_tcp_init(loop, &box->tcp);
    box->tcp.data = box;
    box->owner = this;
    listener = box;
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", 0, &addr);
    int rc = uv_tcp_bind(&box->tcp, reinterpret_cast<const sockaddr*>(&addr), 0);
    if (rc == 0) {
        rc = uv_listen(as_stream(&box->tcp), 16, on_connection);
    }
    sockaddr_storage bound{};
    int len = static_cast<int>(sizeof bound);
    if (rc == 0) {
        rc = uv_tcp_getsockname(&box->tcp, reinterpret_cast<sockaddr*>(&bound), &len);
    }
    if (rc != 0) {
        stop();
        throw std::runtime_error(std::string("ScriptedPeer: cannot listen: ") + uv_strerror(rc));
    }
    port = ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
}

void ScriptedPeer::Impl::on_connection(uv_stream_t* server, int status) {
    Impl* self = static_cast<ListenBox*>(server->data)->owner;
    if (self == nullptr || status < 0) {
        return;
    }
    auto* c = new Conn;
    uv_tcp_init(self->loop, &c->tcp);
    uv_timer_init(self->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->open_handles = 2;
    if (uv_accept(server, as_stream(&c->tcp)) != 0) {
        close_conn(*c);
        return;
    }
    try {
        c->owner = self;
        c->index = self->received.size();
        self->received.emplace_back();
        self->status.emplace_back();
        self->conns.push_back(c);
        uv_read_start(as_stream(&c->tcp), on_alloc, on_read);
        self->advance(*c);
    } catch (...) {
        c->owner = nullptr; // out of memory in a test fixture: drop the connection
        close_conn(*c);
    }
}

// ---------------------------------------------------------------------------------------------
// Running the script

void ScriptedPeer::Impl::add(Step step) {
    script.push_back(std::move(step));
    // A connection that had reached the end of the script goes on with the new step.
    const std::vector<Conn*> live = conns;
    for (Conn* c : live) {
        if (c->owner != nullptr) {
            advance(*c);
        }
    }
}

void ScriptedPeer::Impl::advance(Conn& c) {
    while (!c.closing && !c.pausing && c.step < script.size()) {
        if (!run_step(c, script[c.step])) {
            return;
        }
    }
    status[c.index].done = c.step == script.size() && !c.pausing;
    if (status[c.index].done && c.client_closed && !c.closing) {
        c.closing = true; // both sides are finished with this connection
        close_conn(c);
    }
}

// Runs one step; false when the connection must wait (or has failed).
bool ScriptedPeer::Impl::run_step(Conn& c, const Step& s) {
    switch (s.kind) {
    case Step::Kind::expect:
        if (!match(c, s.text)) {
            if (c.client_closed) {
                fail_step(c, s);
            }
            return false;
        }
        break;
    case Step::Kind::send:
        send(c, with_last_id(c, s.text));
        break;
    case Step::Kind::close:
        ++c.step;
        begin_close(c);
        status[c.index].done = c.step == script.size();
        return false;
    case Step::Kind::reset:
        ++c.step;
        c.closing = true;
        status[c.index].done = c.step == script.size();
        if (uv_tcp_close_reset(&c.tcp, on_conn_handle_closed) == 0) {
            uv_close(as_handle(&c.timer), on_conn_handle_closed);
        } else {
            close_conn(c);
        }
        return false;
    case Step::Kind::wait_close:
        if (!c.client_closed) {
            return false;
        }
        break;
    case Step::Kind::pause:
        c.pausing = true;
        uv_timer_start(&c.timer, on_pause_end, static_cast<std::uint64_t>(s.duration.count()), 0);
        break;
    }
    ++c.step;
    return true;
}

bool ScriptedPeer::Impl::match(Conn& c, const std::string& text) {
    const std::string& bytes = received[c.index];
    const std::size_t at = bytes.find(text, std::max(c.cursor, c.scan_from));
    if (at == std::string::npos) {
        // No match can start before the last text.size() - 1 bytes: do not search them again.
        c.scan_from = bytes.size() >= text.size() ? bytes.size() - text.size() + 1 : 0;
        return false;
    }
    c.cursor = at + text.size();
    c.scan_from = c.cursor;
    return true;
}

// "$ID" in a send step stands for the id attribute of the last element the script matched,
// so a peer can answer requests whose ids pcj generates.
std::string ScriptedPeer::Impl::with_last_id(const Conn& c, const std::string& text) const {
    const std::size_t at = text.find("$ID");
    if (at == std::string::npos) {
        return text;
    }
    const std::string& bytes = received[c.index];
    std::string id;
    std::size_t pos = bytes.rfind(" id=", c.cursor == 0 ? std::string::npos : c.cursor - 1);
    if (pos != std::string::npos && pos + 5 < bytes.size()) {
        const char quote = bytes[pos + 4];
        const std::size_t end = bytes.find(quote, pos + 5);
        if (end != std::string::npos) {
            id = bytes.substr(pos + 5, end - pos - 5);
        }
    }
    std::string out = text;
    for (std::size_t p = out.find("$ID"); p != std::string::npos; p = out.find("$ID", p)) {
        out.replace(p, 3, id);
        p += id.size();
    }
    return out;
}

void ScriptedPeer::Impl::send(Conn& c, const std::string& text) {
    struct WriteReq {
        uv_write_t req{};
        std::string data;
    };
    auto* w = new WriteReq;
    w->data = text;
    w->req.data = w;
    uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    const int rc = uv_write(&w->req, as_stream(&c.tcp), &buf, 1,
                            [](uv_write_t* req, int) { delete static_cast<WriteReq*>(req->data); });
    if (rc != 0) {
        delete w; // the client is gone; the script goes on and notices at its next expect
    }
}

// FIN now; the socket itself closes once the client has closed too, so that bytes the client
// sends meanwhile are read rather than answered with a reset.
void ScriptedPeer::Impl::begin_close(Conn& c) {
    c.closing = true;
    auto* req = new uv_shutdown_t;
    const int rc = uv_shutdown(req, as_stream(&c.tcp), [](uv_shutdown_t* r, int) {
        auto* conn = static_cast<Conn*>(r->handle->data);
        delete r;
        if (conn->client_closed) {
            close_conn(*conn);
        }
    });
    if (rc != 0) {
        delete req;
        close_conn(c);
    }
}

void ScriptedPeer::Impl::client_gone(Conn& c) {
    c.client_closed = true;
    status[c.index].client_closed = true;
    uv_read_stop(as_stream(&c.tcp));
    if (c.closing) {
        close_conn(c);
        return;
    }
    advance(c);
}

void ScriptedPeer::Impl::fail_step(Conn& c, const Step& s) {
    if (!failed) {
        failed = true;
        error = "connection " + std::to_string(c.index + 1) + ", step " +
                std::to_string(c.step + 1) + " (expect " + printable(s.text) +
                "): the client closed the connection; received since the previous match: " +
                printable(std::string_view(received[c.index]).substr(c.cursor));
    }
    c.closing = true;
    close_conn(c);
}

// ---------------------------------------------------------------------------------------------
// libuv callbacks

void ScriptedPeer::Impl::on_alloc(uv_handle_t*, std::size_t, uv_buf_t* buf) {
    *buf = uv_buf_init(read_buffer(), static_cast<unsigned>(read_buffer_size));
}

void ScriptedPeer::Impl::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
    Conn& c = *static_cast<Conn*>(stream->data);
    if (c.owner == nullptr || nread == 0) {
        return;
    }
    try {
        if (nread > 0) {
            c.owner->received[c.index].append(read_buffer(), static_cast<std::size_t>(nread));
            if (!c.closing) {
                c.owner->advance(c);
            }
            return;
        }
        c.owner->client_gone(c); // end of file or an error: either way the client is gone
    } catch (...) {
        c.owner->failed = true; // out of memory: the test must not pass
        c.owner->error = "out of memory while reading";
        close_conn(c);
    }
}

void ScriptedPeer::Impl::on_pause_end(uv_timer_t* timer) {
    Conn& c = *static_cast<Conn*>(timer->data);
    c.pausing = false;
    if (c.owner == nullptr) {
        return;
    }
    try {
        c.owner->advance(c);
    } catch (...) {
        c.owner->failed = true;
        close_conn(c);
    }
}

void ScriptedPeer::Impl::close_conn(Conn& c) {
    if (uv_is_closing(as_handle(&c.tcp)) == 0) {
        uv_close(as_handle(&c.tcp), on_conn_handle_closed);
    }
    if (uv_is_closing(as_handle(&c.timer)) == 0) {
        uv_close(as_handle(&c.timer), on_conn_handle_closed);
    }
}

void ScriptedPeer::Impl::on_conn_handle_closed(uv_handle_t* handle) {
    auto* c = static_cast<Conn*>(handle->data);
    if (--c->open_handles > 0) {
        return;
    }
    if (c->owner != nullptr) {
        auto& list = c->owner->conns;
        list.erase(std::remove(list.begin(), list.end(), c), list.end());
    }
    delete c;
}

void ScriptedPeer::Impl::stop() {
    if (listener != nullptr) {
        listener->owner = nullptr;
        uv_close(as_handle(&listener->tcp),
                 [](uv_handle_t* h) { delete static_cast<ListenBox*>(h->data); });
        listener = nullptr;
    }
    for (Conn* c : conns) {
        c->owner = nullptr;
        c->closing = true;
        close_conn(*c);
    }
    conns.clear();
}

// ---------------------------------------------------------------------------------------------
// ScriptedPeer

ScriptedPeer::ScriptedPeer(uv_loop_t* loop) : impl_(std::make_unique<Impl>(loop)) {
    impl_->listen();
}

ScriptedPeer::~ScriptedPeer() {
    impl_->stop();
}

std::uint16_t ScriptedPeer::port() const {
    return impl_->port;
}

ScriptedPeer& ScriptedPeer::expect(std::string text) {
    impl_->add({Impl::Step::Kind::expect, std::move(text), {}});
    return *this;
}

ScriptedPeer& ScriptedPeer::send(std::string text) {
    impl_->add({Impl::Step::Kind::send, std::move(text), {}});
    return *this;
}

ScriptedPeer& ScriptedPeer::close() {
    impl_->add({Impl::Step::Kind::close, {}, {}});
    return *this;
}

ScriptedPeer& ScriptedPeer::reset() {
    impl_->add({Impl::Step::Kind::reset, {}, {}});
    return *this;
}

ScriptedPeer& ScriptedPeer::wait_close() {
    impl_->add({Impl::Step::Kind::wait_close, {}, {}});
    return *this;
}

ScriptedPeer& ScriptedPeer::pause(std::chrono::milliseconds duration) {
    impl_->add({Impl::Step::Kind::pause, {}, duration});
    return *this;
}

const std::vector<std::string>& ScriptedPeer::received() const {
    return impl_->received;
}

std::string ScriptedPeer::all_received() const {
    std::string all;
    for (const std::string& r : impl_->received) {
        all += r;
    }
    return all;
}

std::size_t ScriptedPeer::connections() const {
    return impl_->received.size();
}

bool ScriptedPeer::done() const {
    return !impl_->status.empty() && impl_->status.back().done && !impl_->failed;
}

bool ScriptedPeer::failed() const {
    return impl_->failed;
}

const std::string& ScriptedPeer::error() const {
    return impl_->error;
}

bool ScriptedPeer::client_closed() const {
    return !impl_->status.empty() && impl_->status.back().client_closed;
}

void ScriptedPeer::stop() {
    impl_->stop();
}

} // namespace pcj::test
