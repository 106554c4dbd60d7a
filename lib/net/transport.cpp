// Transport: one TCP connection on libuv — resolve off the loop, try each address, coalesced
// writes.
//
// States:  idle ──connect──▶ resolving ──▶ connecting (one address at a time) ──▶ connected
//            ▲                  │               │ all failed / timed out              │ close()
//            └──── on_failure ◀─┴───────────────┘◀──────────── read/write error ──────┤
//            └──── on_closed ◀────────────────────── closing (flush, shutdown, close) ◀┘
//
// Lifetimes (style.md, libuv): every uv handle lives in a heap box freed by its close callback;
// every request box holds a shared_ptr to the Impl, so the Impl outlives each pending callback.
// Each request also records the epoch it belongs to; abort(), a failure or a new connection
// attempt bumps the epoch, and a callback from an older epoch only frees its box. That is how
// "no callback after abort() or destruction" is kept without cancelling libuv requests.
#include "transport.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <new>
#include <utility>
#include <vector>

#include <uv.h>

namespace pcj::detail {
namespace {

// One read buffer per thread, shared by every transport: libuv fills it and on_data sees it
// before any other read on this thread can start (uv_run is not re-entrant). An idle connection
// therefore carries no read buffer at all, which matters for tens of thousands of connections.
constexpr std::size_t read_buffer_size = 64 * 1024;

// A read budget per loop turn: libuv reads a readable socket up to 32 times in a row (2 MiB
// with this buffer) before it looks at the next one. After this many full reads the transport
// declines the next buffer, so libuv moves on; the socket is still readable and is read again
// on the next turn (libuv polls level-triggered), after the other connections of the loop.
constexpr unsigned max_full_reads_per_turn = 4; // 256 KiB

char* shared_read_buffer() {
    thread_local std::unique_ptr<char[]> buffer(new char[read_buffer_size]);
    return buffer.get();
}

// A write buffer up to this size is kept for the next batch of small writes; a larger one is
// released so that one big write does not pin its memory for the life of the connection.
constexpr std::size_t kept_capacity = 256 * 1024;

// uv_buf_init takes an unsigned int length; larger writes are split into several buffers.
constexpr std::size_t max_buf_len = std::size_t{1} << 30;

std::string address_text(const sockaddr_storage& address) {
    char text[64] = {};
    if (address.ss_family == AF_INET6) {
        uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(&address), text, sizeof text);
    } else {
        uv_ip4_name(reinterpret_cast<const sockaddr_in*>(&address), text, sizeof text);
    }
    return text;
}

int address_family(const sockaddr_storage& address) {
    return address.ss_family == AF_INET6 ? 6 : 4;
}

struct FreeAddrinfo {
    void operator()(addrinfo* list) const { uv_freeaddrinfo(list); }
};

} // namespace

struct Transport::Impl : std::enable_shared_from_this<Transport::Impl> {
    enum class State { idle, resolving, connecting, connected, closing };
    // What the timer delivers when it is not timing a connect attempt.
    enum class Deferred { none, failure, closed };

    struct TcpBox {
        uv_tcp_t handle{};
        Impl* owner = nullptr; // cut when the handle is closed
        // Set for a graceful close: the close callback reports on_closed for this epoch.
        std::shared_ptr<Impl> notify;
        std::uint64_t epoch = 0;
    };
    struct TimerBox {
        uv_timer_t handle{};
        Impl* owner = nullptr;
    };
    // A request and what its callback needs; req.data points back at the box.
    template <typename Req> struct ReqBox {
        Req req{};
        std::shared_ptr<Impl> self;
        std::uint64_t epoch = 0;
        std::string data; // the bytes of a write

        explicit ReqBox(std::shared_ptr<Impl> owner, std::uint64_t at)
            : self(std::move(owner)), epoch(at) {
            req.data = this;
        }
        static std::unique_ptr<ReqBox> take(Req* r) {
            return std::unique_ptr<ReqBox>(static_cast<ReqBox*>(r->data));
        }
    };

    Impl(uv_loop_t* loop, Callbacks callbacks) : loop_(loop), cb_(std::move(callbacks)) {
        timer_ = new TimerBox;
        timer_->owner = this;
        uv_timer_init(loop_, &timer_->handle); // cannot fail on a valid loop
        timer_->handle.data = timer_;
    }
    ~Impl() { dispose(); }

    // API
    void connect(std::string host, std::uint16_t port, std::chrono::milliseconds timeout);
    void write(std::string bytes);
    void close();
    void reset_connection();
    void dispose();

    // Steps
    void start_resolve();
    void resolve_finished(int status, const addrinfo* list);
    void try_next_address();
    int start_attempt(const sockaddr_storage& address);
    void connect_finished(int status);
    void read_finished(ssize_t nread);
    void start_write(std::string data);
    void write_finished(int status, std::string& data);
    void write_failed(int err);
    void start_shutdown();
    void finish_close();
    void timer_fired();
    void close_tcp();
    void fail(const char* op, int code, std::string text);
    void fail_later(const char* op, int code, std::string text);
    void release_pending();

    // libuv callbacks
    static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* list);
    static void on_connect(uv_connect_t* req, int status);
    static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
    static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
    static void on_write(uv_write_t* req, int status);
    static void on_shutdown(uv_shutdown_t* req, int status);
    static void on_timer(uv_timer_t* handle);
    static void on_tcp_closed(uv_handle_t* handle);

    // Calls a user callback. Counting the calls on the stack lets dispose() leave the running
    // std::function alone until it has returned.
    template <typename F, typename... Args> void emit(const F& callback, Args&&... args) {
        if (!callback) {
            return;
        }
        struct Depth {
            Impl& impl;
            explicit Depth(Impl& i) : impl(i) { ++impl.emitting_; }
            ~Depth() {
                if (--impl.emitting_ == 0 && impl.disposed_) {
                    impl.cb_ = Callbacks{};
                }
            }
        } depth(*this);
        callback(std::forward<Args>(args)...);
    }

    // Runs fn; an exception (from a user callback or an allocation) becomes on_failure for op
    // instead of crossing into libuv.
    template <typename Fn> void guard(const char* op, Fn&& fn) noexcept {
        try {
            fn();
        } catch (const std::bad_alloc&) {
            recover(op, ENOMEM, "out of memory");
        } catch (const std::exception& e) {
            recover(op, EIO, e.what());
        } catch (...) {
            recover(op, EIO, "unknown exception");
        }
    }
    void recover(const char* op, int code, const char* what) noexcept {
        try {
            if (state_ != State::idle) {
                fail(op, code, std::string("exception in a callback: ") + what);
            }
        } catch (...) {
            // on_failure threw as well: nothing is left to tell, and the transport is idle.
        }
    }

    uv_loop_t* loop_;
    Callbacks cb_;
    State state_ = State::idle;
    std::uint64_t epoch_ = 0;
    TimerBox* timer_ = nullptr;
    TcpBox* tcp_ = nullptr;
    ReqBox<uv_getaddrinfo_t>* resolving_ = nullptr; // for uv_cancel while it is pending
    std::string host_;
    std::uint16_t port_ = 0;
    std::chrono::milliseconds timeout_{0};
    std::vector<sockaddr_storage> addresses_;
    std::size_t next_address_ = 0;
    int last_error_ = 0;
    bool writing_ = false; // one uv_write in flight; later writes gather in pending_
    std::string pending_;
    std::size_t buffered_ = 0;
    std::uint64_t bytes_read_ = 0;
    unsigned full_reads_ = 0;   // full buffers read in a row, within this turn's budget
    bool budget_spent_ = false; // the last buffer was declined: ENOBUFS is no error
    std::uint64_t bytes_written_ = 0;
    std::uint64_t bytes_queued_ = 0;
    Deferred deferred_ = Deferred::none;
    Reason deferred_reason_;
    int emitting_ = 0;      // user callbacks on the stack
    bool disposed_ = false; // the Transport is gone: clear cb_ once none is running
};

// ---------------------------------------------------------------------------------------------
// Connecting

void Transport::Impl::connect(std::string host, std::uint16_t port,
                              std::chrono::milliseconds timeout) {
    reset_connection();
    bytes_read_ = 0;
    bytes_written_ = 0;
    bytes_queued_ = 0;
    host_ = std::move(host);
    port_ = port;
    timeout_ = std::max(timeout, std::chrono::milliseconds(0));
    state_ = State::resolving;
    const std::uint64_t epoch = epoch_;
    try {
        emit(cb_.on_resolving, host_);
    } catch (...) {
        reset_connection(); // do not stay "resolving" with nothing under way
        throw;
    }
    if (epoch == epoch_) {
        start_resolve();
    }
}

void Transport::Impl::start_resolve() {
    auto* req = new ReqBox<uv_getaddrinfo_t>(shared_from_this(), epoch_);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_NUMERICSERV;
    const std::string service = std::to_string(port_);
    // An empty host is getaddrinfo's null node: the loopback addresses, IPv6 and IPv4.
    const char* node = host_.empty() ? nullptr : host_.c_str();
    const int rc = uv_getaddrinfo(loop_, &req->req, on_resolved, node, service.c_str(), &hints);
    if (rc != 0) {
        delete req;
        fail_later("resolve", -rc, uv_strerror(rc));
        return;
    }
    resolving_ = req;
}

void Transport::Impl::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* list) {
    std::unique_ptr<addrinfo, FreeAddrinfo> owned(list);
    const auto box = ReqBox<uv_getaddrinfo_t>::take(req);
    const std::shared_ptr<Impl> self = std::move(box->self);
    if (box->epoch != self->epoch_) {
        return; // aborted or superseded while the pool was resolving
    }
    self->resolving_ = nullptr;
    self->guard("resolve", [&] { self->resolve_finished(status, list); });
}

void Transport::Impl::resolve_finished(int status, const addrinfo* list) {
    if (status < 0) {
        fail("resolve", -status, uv_strerror(status));
        return;
    }
    std::vector<std::string> names;
    for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) {
            continue;
        }
        sockaddr_storage address{};
        std::memcpy(&address, ai->ai_addr, std::min<std::size_t>(ai->ai_addrlen, sizeof address));
        addresses_.push_back(address);
        names.push_back(address_text(address));
    }
    if (addresses_.empty()) {
        fail("resolve", -UV_EAI_NONAME, uv_strerror(UV_EAI_NONAME));
        return;
    }
    state_ = State::connecting;
    const std::uint64_t epoch = epoch_;
    emit(cb_.on_resolved, names);
    if (epoch == epoch_) {
        try_next_address();
    }
}

// Tries the remaining addresses in order until one attempt is under way; reports the last
// error when none is left.
void Transport::Impl::try_next_address() {
    while (next_address_ < addresses_.size()) {
        const sockaddr_storage address = addresses_[next_address_++];
        const std::uint64_t epoch = ++epoch_; // the previous attempt's callbacks are stale now
        emit(cb_.on_connecting, address_text(address), address_family(address), port_);
        if (epoch != epoch_) {
            return;
        }
        const int rc = start_attempt(address);
        if (rc == 0) {
            return;
        }
        last_error_ = rc;
        close_tcp();
    }
    fail("connect", -last_error_, uv_strerror(last_error_));
}

int Transport::Impl::start_attempt(const sockaddr_storage& address) {
    auto box = std::make_unique<TcpBox>();
    if (const int rc = uv_tcp_init(loop_, &box->handle); rc != 0) {
        return rc;
    }
    box->owner = this;
    box->handle.data = box.get();
    tcp_ = box.release();
    auto* req = new ReqBox<uv_connect_t>(shared_from_this(), epoch_);
    const int rc = uv_tcp_connect(&req->req, &tcp_->handle,
                                  reinterpret_cast<const sockaddr*>(&address), on_connect);
    if (rc != 0) {
        delete req;
        return rc;
    }
    if (timeout_.count() > 0) {
        uv_timer_start(&timer_->handle, on_timer, static_cast<std::uint64_t>(timeout_.count()), 0);
    }
    return 0;
}

void Transport::Impl::on_connect(uv_connect_t* req, int status) {
    const auto box = ReqBox<uv_connect_t>::take(req);
    const std::shared_ptr<Impl> self = std::move(box->self);
    if (box->epoch != self->epoch_ || self->state_ != State::connecting) {
        return; // timed out, aborted or superseded: the handle is already closing
    }
    self->guard("connect", [&] { self->connect_finished(status); });
}

void Transport::Impl::connect_finished(int status) {
    uv_timer_stop(&timer_->handle);
    if (status < 0) {
        last_error_ = status;
        close_tcp();
        try_next_address();
        return;
    }
    state_ = State::connected;
    addresses_.clear();
    uv_tcp_nodelay(&tcp_->handle, 1); // XMPP sends small stanzas that must not wait for Nagle
    if (const int rc =
            uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_->handle), on_alloc, on_read);
        rc != 0) {
        fail("read", -rc, uv_strerror(rc));
        return;
    }
    emit(cb_.on_connected);
}

// ---------------------------------------------------------------------------------------------
// Reading

void Transport::Impl::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
    Impl* impl = handle->data != nullptr ? static_cast<TcpBox*>(handle->data)->owner : nullptr;
    if (impl != nullptr && impl->full_reads_ >= max_full_reads_per_turn) {
        impl->full_reads_ = 0;
        impl->budget_spent_ = true;
        *buf = uv_buf_init(nullptr, 0); // libuv reports UV_ENOBUFS and moves on
        return;
    }
    try {
        *buf = uv_buf_init(shared_read_buffer(), static_cast<unsigned>(read_buffer_size));
    } catch (...) {
        *buf = uv_buf_init(nullptr, 0); // libuv reports UV_ENOBUFS to on_read
    }
}

void Transport::Impl::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
    Impl* impl = static_cast<TcpBox*>(stream->data)->owner;
    if (impl == nullptr) {
        return;
    }
    impl->guard("read", [&] {
        const std::shared_ptr<Impl> self = impl->shared_from_this();
        self->read_finished(nread);
    });
}

void Transport::Impl::read_finished(ssize_t nread) {
    if (nread == UV_ENOBUFS && budget_spent_) {
        budget_spent_ = false;
        return; // the budget of this turn is spent: read on in the next one
    }
    if (nread > 0) {
        const auto n = static_cast<std::size_t>(nread);
        bytes_read_ += n;
        // A short read ends libuv's reads of this socket for the turn.
        full_reads_ = n == read_buffer_size ? full_reads_ + 1 : 0;
        emit(cb_.on_data, std::string_view(shared_read_buffer(), n));
        return;
    }
    if (nread == 0) {
        full_reads_ = 0;
        return; // EAGAIN: nothing this time
    }
    const int err = static_cast<int>(nread);
    if (state_ == State::closing) {
        // The peer's end (or an error) while we close: stop flushing if the socket broke.
        if (err != UV_EOF) {
            finish_close();
        }
        return;
    }
    if (err == UV_EOF) {
        fail("read", 0, "end of file");
    } else {
        fail("read", -err, uv_strerror(err));
    }
}

// ---------------------------------------------------------------------------------------------
// Writing: one uv_write in flight at a time; bytes written meanwhile gather in pending_ and go
// out as one write when it completes, so many small writes cost one system call per batch.

void Transport::Impl::write(std::string bytes) {
    if (state_ != State::connected || bytes.empty()) {
        return;
    }
    const std::size_t size = bytes.size();
    if (writing_) {
        if (pending_.empty() && pending_.capacity() < size) {
            pending_ = std::move(bytes);
        } else {
            pending_.append(bytes);
        }
        buffered_ += size; // only once the bytes are really held
        bytes_queued_ += size;
        return;
    }
    buffered_ += size; // a synchronous failure below resets it with the connection
    bytes_queued_ += size;
    start_write(std::move(bytes));
}

void Transport::Impl::start_write(std::string data) {
    std::unique_ptr<ReqBox<uv_write_t>> req;
    std::vector<uv_buf_t> bufs;
    try {
        req = std::make_unique<ReqBox<uv_write_t>>(shared_from_this(), epoch_);
        req->data = std::move(data);
        for (std::size_t at = 0; at < req->data.size(); at += max_buf_len) {
            const std::size_t len = std::min(max_buf_len, req->data.size() - at);
            bufs.push_back(uv_buf_init(req->data.data() + at, static_cast<unsigned>(len)));
        }
    } catch (const std::bad_alloc&) {
        write_failed(UV_ENOMEM); // the bytes are lost: end the connection
        return;
    }
    const int rc = uv_write(&req->req, reinterpret_cast<uv_stream_t*>(&tcp_->handle), bufs.data(),
                            static_cast<unsigned>(bufs.size()), on_write);
    if (rc != 0) {
        write_failed(rc);
        return;
    }
    req.release(); // on_write owns it now
    writing_ = true;
}

// While closing, a failed write only ends the flush (on_closed); otherwise it is a failure,
// reported from the loop because write() may be what is on the stack.
void Transport::Impl::write_failed(int err) {
    if (state_ == State::closing) {
        finish_close();
    } else {
        fail_later("write", -err, uv_strerror(err));
    }
}

void Transport::Impl::on_write(uv_write_t* req, int status) {
    const auto box = ReqBox<uv_write_t>::take(req);
    const std::shared_ptr<Impl> self = std::move(box->self);
    if (box->epoch != self->epoch_) {
        return; // aborted or failed meanwhile; the bytes no longer count
    }
    self->guard("write", [&] { self->write_finished(status, box->data); });
}

void Transport::Impl::write_finished(int status, std::string& data) {
    writing_ = false;
    if (status < 0) {
        if (state_ == State::closing) {
            finish_close(); // give up flushing
        } else {
            fail("write", -status, uv_strerror(status));
        }
        return;
    }
    const std::size_t sent = data.size();
    bytes_written_ += sent;
    buffered_ -= sent;
    data.clear();
    const std::uint64_t epoch = epoch_;
    bool drained = false;
    if (!pending_.empty()) {
        std::string next;
        next.swap(pending_);
        if (data.capacity() <= kept_capacity) {
            pending_.swap(data); // the written buffer collects the next batch
        }
        start_write(std::move(next));
    } else {
        if (data.capacity() <= kept_capacity && data.capacity() > pending_.capacity()) {
            pending_.swap(data);
        }
        if (state_ == State::closing) {
            start_shutdown();
        } else {
            drained = true;
        }
    }
    // Reported once the next write is under way, so that a callback that writes cannot
    // overtake the bytes already waiting.
    if (epoch != epoch_) {
        return;
    }
    emit(cb_.on_sent, sent);
    if (drained && epoch == epoch_ && !writing_ && state_ == State::connected) {
        emit(cb_.on_drain);
    }
}

// ---------------------------------------------------------------------------------------------
// Closing

void Transport::Impl::close() {
    switch (state_) {
    case State::idle:
    case State::closing:
        return;
    case State::resolving:
    case State::connecting:
        // Nothing to flush: drop the attempt and report on_closed from the loop, not from here.
        reset_connection();
        state_ = State::closing;
        deferred_ = Deferred::closed;
        uv_timer_start(&timer_->handle, on_timer, 0, 0);
        return;
    case State::connected:
        state_ = State::closing;
        if (!writing_) {
            start_shutdown();
        }
        return;
    }
}

void Transport::Impl::start_shutdown() {
    auto* req = new ReqBox<uv_shutdown_t>(shared_from_this(), epoch_);
    const int rc =
        uv_shutdown(&req->req, reinterpret_cast<uv_stream_t*>(&tcp_->handle), on_shutdown);
    if (rc != 0) {
        delete req;
        finish_close();
    }
}

void Transport::Impl::on_shutdown(uv_shutdown_t* req, int) {
    const auto box = ReqBox<uv_shutdown_t>::take(req);
    const std::shared_ptr<Impl> self = std::move(box->self);
    if (box->epoch == self->epoch_ && self->state_ == State::closing) {
        self->guard("close", [&] { self->finish_close(); });
    }
}

// Closes the socket; its close callback reports on_closed unless the epoch moves on first.
void Transport::Impl::finish_close() {
    ++epoch_; // a write still in flight is cancelled by uv_close and must be ignored
    writing_ = false;
    buffered_ = 0;
    release_pending();
    TcpBox* box = tcp_;
    tcp_ = nullptr;
    box->owner = nullptr;
    box->notify = shared_from_this();
    box->epoch = epoch_;
    uv_close(reinterpret_cast<uv_handle_t*>(&box->handle), on_tcp_closed);
}

void Transport::Impl::on_tcp_closed(uv_handle_t* handle) {
    std::unique_ptr<TcpBox> box(static_cast<TcpBox*>(handle->data));
    if (!box->notify) {
        return;
    }
    const std::shared_ptr<Impl> self = std::move(box->notify);
    if (box->epoch == self->epoch_ && self->state_ == State::closing) {
        self->state_ = State::idle;
        self->guard("close", [&] { self->emit(self->cb_.on_closed); });
    }
}

void Transport::Impl::close_tcp() {
    if (tcp_ == nullptr) {
        return;
    }
    TcpBox* box = tcp_;
    tcp_ = nullptr;
    box->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&box->handle), on_tcp_closed);
}

// ---------------------------------------------------------------------------------------------
// Timer: the per-address connect timeout, and events that must not fire inside an API call.

void Transport::Impl::on_timer(uv_timer_t* handle) {
    Impl* impl = static_cast<TimerBox*>(handle->data)->owner;
    if (impl == nullptr) {
        return;
    }
    impl->guard("connect", [&] {
        const std::shared_ptr<Impl> self = impl->shared_from_this();
        self->timer_fired();
    });
}

void Transport::Impl::timer_fired() {
    const Deferred deferred = std::exchange(deferred_, Deferred::none);
    if (deferred == Deferred::failure) {
        state_ = State::idle;
        emit(cb_.on_failure, deferred_reason_);
        return;
    }
    if (deferred == Deferred::closed) {
        state_ = State::idle;
        emit(cb_.on_closed);
        return;
    }
    if (state_ == State::connecting) {
        last_error_ = UV_ETIMEDOUT;
        close_tcp(); // its connect request ends with ECANCELED, in a stale epoch
        try_next_address();
    }
}

// ---------------------------------------------------------------------------------------------
// Ending

// Drops whatever is under way without a callback: the epoch moves on, so every pending
// request's callback only frees its box.
void Transport::Impl::reset_connection() {
    ++epoch_;
    state_ = State::idle;
    deferred_ = Deferred::none;
    if (timer_ != nullptr) {
        uv_timer_stop(&timer_->handle);
    }
    if (resolving_ != nullptr) {
        uv_cancel(reinterpret_cast<uv_req_t*>(&resolving_->req)); // fails if already running
        resolving_ = nullptr;
    }
    close_tcp();
    addresses_.clear();
    next_address_ = 0;
    last_error_ = 0;
    writing_ = false;
    buffered_ = 0;
    release_pending();
}

void Transport::Impl::fail(const char* op, int code, std::string text) {
    reset_connection();
    const Reason reason{op, code, {}, std::move(text)};
    emit(cb_.on_failure, reason);
}

void Transport::Impl::fail_later(const char* op, int code, std::string text) {
    reset_connection();
    state_ = State::closing; // neither idle nor connected until the failure is delivered
    deferred_ = Deferred::failure;
    deferred_reason_ = Reason{op, code, {}, std::move(text)};
    uv_timer_start(&timer_->handle, on_timer, 0, 0);
}

void Transport::Impl::release_pending() {
    if (pending_.capacity() > kept_capacity) {
        std::string().swap(pending_);
    } else {
        pending_.clear();
    }
}

// Closes every handle and cuts the callbacks; pending requests keep the Impl alive until their
// callbacks have run, and those only free their boxes.
void Transport::Impl::dispose() {
    reset_connection();
    disposed_ = true;
    if (emitting_ == 0) {
        cb_ = Callbacks{};
    }
    if (timer_ != nullptr) {
        timer_->owner = nullptr;
        uv_close(reinterpret_cast<uv_handle_t*>(&timer_->handle),
                 [](uv_handle_t* h) { delete static_cast<TimerBox*>(h->data); });
        timer_ = nullptr;
    }
}

// ---------------------------------------------------------------------------------------------
// Transport

Transport::Transport(uv_loop_s* loop, Callbacks callbacks)
    : impl_(std::make_shared<Impl>(loop, std::move(callbacks))) {}

Transport::~Transport() {
    impl_->dispose();
}

void Transport::connect(std::string host, std::uint16_t port, std::chrono::milliseconds timeout) {
    impl_->connect(std::move(host), port, timeout);
}

void Transport::write(std::string bytes) {
    impl_->write(std::move(bytes));
}

std::size_t Transport::buffered() const {
    return impl_->buffered_;
}

void Transport::close() {
    impl_->close();
}

void Transport::abort() {
    impl_->reset_connection();
}

bool Transport::connected() const {
    return impl_->state_ == Impl::State::connected;
}

std::uint64_t Transport::bytes_read() const {
    return impl_->bytes_read_;
}

std::uint64_t Transport::bytes_written() const {
    return impl_->bytes_written_;
}

std::uint64_t Transport::bytes_queued() const {
    return impl_->bytes_queued_;
}

} // namespace pcj::detail
