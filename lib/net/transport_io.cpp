// Transport: reading, writing and closing an established connection, and the public API.
// transport_impl.hpp has the states and the lifetime rules.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "transport_impl.hpp"

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

} // namespace

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
    if (tcp_ != nullptr) {
        close_box(std::exchange(tcp_, nullptr));
    }
}

// Closes a socket without a report; a connect still pending on it ends with ECANCELED.
void Transport::Impl::close_box(TcpBox* box) {
    box->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&box->handle), on_tcp_closed);
}

// ---------------------------------------------------------------------------------------------
// Timer: the attempts' deadlines, and events that must not fire inside an API call.

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
    if (dialing()) {
        check_deadlines();
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
    for (TimerBox* timer : {timer_, stagger_, soon_}) {
        if (timer != nullptr) {
            uv_timer_stop(&timer->handle);
        }
    }
    soon_fn_ = nullptr;
    // Allowed from inside a resolver callback: the Resolver copes with being destroyed there.
    resolver_.reset();
    drop_attempts();
    close_tcp();
    srv_waiting_ = 0;
    targets_.clear();
    next_target_ = 0;
    looking_up_ = false;
    candidates_.clear();
    stagger_due_ = true;
    last_failure_ = Reason{};
    writing_ = false;
    buffered_ = 0;
    release_pending();
}

void Transport::Impl::fail(Reason reason) {
    reset_connection();
    emit(cb_.on_failure, reason);
}

void Transport::Impl::fail(const char* op, int code, std::string text) {
    fail(Reason{op, code, {}, std::move(text)});
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
    close_timer(timer_);
    close_timer(stagger_);
    close_timer(soon_);
}

// ---------------------------------------------------------------------------------------------
// Transport

Transport::Transport(uv_loop_s* loop, Callbacks callbacks)
    : impl_(std::make_shared<Impl>(loop, std::move(callbacks))) {}

Transport::~Transport() {
    impl_->dispose();
}

void Transport::connect(Destination destination) {
    impl_->connect(std::move(destination));
}

void Transport::connect(std::string host, std::uint16_t port, std::chrono::milliseconds timeout) {
    Destination d;
    d.host = std::move(host);
    d.port = port;
    d.timeout = timeout;
    impl_->connect(std::move(d));
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

const Peer& Transport::peer() const {
    return impl_->peer_;
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
