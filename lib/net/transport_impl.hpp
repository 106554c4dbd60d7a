// Transport's inside, shared by transport.cpp (finding and connecting) and transport_io.cpp
// (reading, writing, closing).
//
// States:  idle ──connect──▶ resolving ──▶ connecting (lookups and attempts) ──▶ connected
//            ▲                  │               │ every address failed               │ close()
//            └──── on_failure ◀─┴───────────────┘◀──────────── read/write error ──────┤
//            └──── on_closed ◀────────────────────── closing (flush, shutdown, close) ◀┘
//
// Lifetimes (style.md, libuv): every uv handle lives in a heap box freed by its close callback;
// every request box holds a shared_ptr to the Impl, so the Impl outlives each pending callback.
// Each request also records the epoch it belongs to; abort(), a failure or a new connection
// attempt bumps the epoch, and a callback from an older epoch only frees its box. That is how
// "no callback after abort() or destruction" is kept without cancelling libuv requests.
#pragma once

#include <chrono>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include <uv.h>

#include "dial_plan.hpp"
#include "lazy_deque.hpp"
#include "resolver.hpp"
#include "transport.hpp"

namespace pcj::detail {

std::string address_text(const sockaddr_storage& address);
int address_family(const sockaddr_storage& address); // 4 or 6

struct Transport::Impl : std::enable_shared_from_this<Transport::Impl> {
    enum class State { idle, resolving, connecting, connected, closing };
    // What the timer delivers when it is not timing connect attempts.
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
        std::uint64_t tag = 0; // a connect request: the attempt it belongs to
        std::string data;      // the bytes of a write

        explicit ReqBox(std::shared_ptr<Impl> owner, std::uint64_t at)
            : self(std::move(owner)), epoch(at) {
            req.data = this;
        }
        static std::unique_ptr<ReqBox> take(Req* r) {
            return std::unique_ptr<ReqBox>(static_cast<ReqBox*>(r->data));
        }
    };
    // One address to try, and the target it belongs to.
    struct Candidate {
        sockaddr_storage address{};
        std::size_t target = 0;
    };
    // One connect under way.
    struct Attempt {
        TcpBox* tcp = nullptr;
        Candidate candidate;
        std::uint64_t id = 0;
        std::chrono::steady_clock::time_point deadline;
    };

    Impl(uv_loop_t* loop, Callbacks callbacks);
    ~Impl() { dispose(); }

    // API
    void connect(Destination destination);
    void write(std::string bytes);
    void close();
    void reset_connection();
    void dispose();

    // Finding the server (transport.cpp)
    Resolver& resolver();
    void start_srv();
    void srv_finished(bool direct, const LookupStatus& status, std::vector<SrvAnswer> answers);
    void srv_fallback(const Reason& why);
    void pump();
    bool start_lookup(std::size_t target);
    void lookup_finished(std::size_t target, const LookupStatus& status,
                         std::vector<sockaddr_storage> addresses);
    bool start_attempt(const Candidate& candidate);
    bool attempt_failed(std::size_t index, int err);
    void attempt_finished(std::uint64_t id, int status);
    void won(std::size_t index);
    void check_deadlines();
    void arm_deadline();
    void defer(std::function<void()> fn);
    TimerBox* make_timer();
    static void close_timer(TimerBox*& timer);
    void drop_attempts();
    ::pcj::Attempt attempt_of(const Candidate& candidate) const;

    // Reading, writing, closing (transport_io.cpp)
    void read_finished(ssize_t nread);
    void start_write(std::string data);
    void write_finished(int status, std::string& data);
    void write_failed(int err);
    void start_shutdown();
    void finish_close();
    void timer_fired();
    void close_tcp();
    static void close_box(TcpBox* box);
    void fail(Reason reason);
    void fail(const char* op, int code, std::string text);
    void fail_later(const char* op, int code, std::string text);
    void release_pending();
    bool dialing() const { return state_ == State::resolving || state_ == State::connecting; }

    // libuv callbacks
    static void on_connect(uv_connect_t* req, int status);
    static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
    static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
    static void on_write(uv_write_t* req, int status);
    static void on_shutdown(uv_shutdown_t* req, int status);
    static void on_timer(uv_timer_t* handle);
    static void on_stagger(uv_timer_t* handle);
    static void on_soon(uv_timer_t* handle);
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
    TimerBox* timer_ = nullptr;   // attempt deadlines, deferred on_failure / on_closed
    TimerBox* stagger_ = nullptr; // RFC 8305's connection attempt delay (while dialling)
    TimerBox* soon_ = nullptr;    // a dial step that must not run inside connect() (ditto)
    std::function<void()> soon_fn_;
    TcpBox* tcp_ = nullptr; // the connection, once one attempt has won

    // The dial
    Destination dest_;
    std::chrono::milliseconds timeout_{0};
    std::unique_ptr<Resolver> resolver_;
    Pick pick_ = random_pick();
    int srv_waiting_ = 0;
    LookupStatus srv_status_[2]; // [0] STARTTLS, [1] Direct TLS
    std::vector<SrvAnswer> srv_answers_[2];
    std::vector<DialTarget> targets_;
    std::size_t next_target_ = 0;
    bool looking_up_ = false;
    LazyDeque<Candidate> candidates_; // no memory once connected
    std::vector<Attempt> attempts_;
    std::uint64_t next_attempt_id_ = 0;
    bool stagger_due_ = true; // the attempt delay since the last attempt started has passed
    Reason last_failure_;
    Peer peer_;

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

} // namespace pcj::detail
