// Resolver: c-ares on the libuv loop.
//
// c-ares tells which sockets it wants watched (ARES_OPT_SOCK_STATE_CB): each gets a uv_poll,
// and ares_process_fd runs when one is ready. ares_timeout says when c-ares next needs the
// clock (a retransmission, a query's timeout): one uv_timer calls ares_process_fd then.
//
// c-ares calls its query callbacks from inside ares_process_fd (and sometimes from inside the
// ares_query call itself). Those callbacks only queue the result; a second timer delivers the
// queue from the loop. So no user code ever runs inside c-ares, a user callback may destroy the
// Resolver, and the channel is never destroyed while c-ares is processing it.
//
// Lifetimes (style.md, libuv): every uv handle lives in a heap box freed by its close callback;
// a box's owner pointer is cut when the Resolver goes, so a late libuv callback does nothing.
#include "resolver.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>

#include <ares.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <uv.h>

namespace pcj::detail {
namespace {

void init_library() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (const int rc = ares_library_init(ARES_LIB_INIT_ALL); rc != ARES_SUCCESS) {
            throw std::runtime_error(std::string("c-ares: ") + ares_strerror(rc));
        }
    });
}

// "ADDRESS[:PORT]" or "[V6]:PORT" → the "[V6]:PORT" / "V4:PORT" form c-ares' CSV parser takes.
bool normalise_server(const std::string& text, std::string& out) {
    std::string host = text;
    std::string port = "53";
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos) {
            return false;
        }
        host = text.substr(1, close - 1);
        const std::string rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return false;
            }
            port = rest.substr(1);
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        host = text.substr(0, text.find(':'));
        port = text.substr(text.find(':') + 1);
    }
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) == 0 ||
        std::stoi(port) > 65535) {
        return false;
    }
    unsigned char buf[sizeof(in6_addr)];
    if (uv_inet_pton(AF_INET, host.c_str(), buf) == 0) {
        out = host + ":" + port;
        return true;
    }
    if (uv_inet_pton(AF_INET6, host.c_str(), buf) == 0) {
        out = "[" + host + "]:" + port;
        return true;
    }
    return false;
}

LookupStatus status_of(int status) {
    LookupStatus s;
    s.status = status;
    s.nodata = status == ARES_ENODATA || status == ARES_ENOTFOUND;
    if (status != ARES_SUCCESS) {
        s.text = ares_strerror(status);
    }
    return s;
}

} // namespace

bool valid_dns_server(const std::string& server) {
    std::string ignored;
    return normalise_server(server, ignored);
}

struct Resolver::Impl {
    struct PollBox {
        uv_poll_t handle{};
        Impl* owner = nullptr;
        ares_socket_t fd = ARES_SOCKET_BAD;
    };
    struct TimerBox {
        uv_timer_t handle{};
        Impl* owner = nullptr;
    };
    // What c-ares hands back to its callback: the lookup's Impl and cancel generation.
    struct Query {
        Impl* impl = nullptr;
        std::uint64_t generation = 0;
        std::uint16_t port = 0;
        SrvCallback on_srv;
        AddressCallback on_addresses;
    };
    struct Ready {
        std::uint64_t generation = 0;
        std::function<void()> deliver;
    };

    Impl(uv_loop_t* loop, const ResolverOptions& options);
    ~Impl() { shutdown(); }

    void shutdown();
    void schedule_clock();
    void process(ares_socket_t read_fd, ares_socket_t write_fd);
    void queue(std::uint64_t generation, std::function<void()> deliver);
    void socket_state(ares_socket_t fd, bool readable, bool writable);
    TimerBox* make_timer();

    static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable);
    static void on_poll(uv_poll_t* handle, int status, int events);
    static void on_clock(uv_timer_t* handle);
    static void on_deliver(uv_timer_t* handle);
    static void on_srv_reply(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
    static void on_addrinfo(void* arg, int status, int timeouts, ares_addrinfo* result);

    uv_loop_t* loop_;
    ares_channel channel_ = nullptr;
    std::map<ares_socket_t, PollBox*> polls_;
    TimerBox* clock_ = nullptr;   // c-ares' own timeouts
    TimerBox* deliver_ = nullptr; // hands queued results to the caller
    std::deque<Ready> ready_;
    std::uint64_t generation_ = 0; // cancel() moves it on
};

Resolver::Impl::Impl(uv_loop_t* loop, const ResolverOptions& options) : loop_(loop) {
    init_library();
    std::string csv;
    for (const auto& server : options.servers) {
        std::string one;
        if (!normalise_server(server, one)) {
            throw std::runtime_error("DNS server '" + server + "' is not ADDRESS or ADDRESS:PORT");
        }
        csv += (csv.empty() ? "" : ",") + one;
    }
    ares_options opts{};
    opts.sock_state_cb = on_socket_state;
    opts.sock_state_cb_data = this;
    opts.timeout = static_cast<int>(std::max<long long>(1, options.timeout.count()));
    opts.tries = static_cast<int>(std::max(1U, options.tries));
    const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    if (const int rc = ares_init_options(&channel_, &opts, mask); rc != ARES_SUCCESS) {
        channel_ = nullptr;
        throw std::runtime_error(std::string("c-ares: ") + ares_strerror(rc));
    }
    if (!csv.empty()) {
        if (const int rc = ares_set_servers_ports_csv(channel_, csv.c_str()); rc != ARES_SUCCESS) {
            ares_destroy(channel_);
            channel_ = nullptr;
            throw std::runtime_error("DNS servers '" + csv + "': " + ares_strerror(rc));
        }
    }
    clock_ = make_timer();
    deliver_ = make_timer();
}

Resolver::Impl::TimerBox* Resolver::Impl::make_timer() {
    auto* box = new TimerBox;
    box->owner = this;
    uv_timer_init(loop_, &box->handle); // cannot fail on a valid loop
    box->handle.data = box;
    return box;
}

// Destroys the channel (its pending queries end with ARES_EDESTRUCTION and free themselves;
// c-ares reports each socket closed, which closes its poll), then the timers.
void Resolver::Impl::shutdown() {
    ++generation_;
    ready_.clear();
    if (channel_ != nullptr) {
        ares_destroy(channel_);
        channel_ = nullptr;
    }
    for (auto& [fd, box] : polls_) {
        box->owner = nullptr;
        uv_close(reinterpret_cast<uv_handle_t*>(&box->handle),
                 [](uv_handle_t* h) { delete static_cast<PollBox*>(h->data); });
    }
    polls_.clear();
    for (TimerBox** timer : {&clock_, &deliver_}) {
        if (*timer != nullptr) {
            (*timer)->owner = nullptr;
            uv_close(reinterpret_cast<uv_handle_t*>(&(*timer)->handle),
                     [](uv_handle_t* h) { delete static_cast<TimerBox*>(h->data); });
            *timer = nullptr;
        }
    }
}

// -- sockets and the clock --------------------------------------------------------------------

void Resolver::Impl::on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<Impl*>(data)->socket_state(fd, readable != 0, writable != 0);
}

void Resolver::Impl::socket_state(ares_socket_t fd, bool readable, bool writable) {
    auto it = polls_.find(fd);
    if (!readable && !writable) {
        // c-ares is about to close the socket: stop watching it first.
        if (it != polls_.end()) {
            PollBox* box = it->second;
            polls_.erase(it);
            box->owner = nullptr;
            uv_close(reinterpret_cast<uv_handle_t*>(&box->handle),
                     [](uv_handle_t* h) { delete static_cast<PollBox*>(h->data); });
        }
        return;
    }
    PollBox* box = nullptr;
    if (it == polls_.end()) {
        auto fresh = std::make_unique<PollBox>();
        if (uv_poll_init_socket(loop_, &fresh->handle, fd) != 0) {
            return; // c-ares' own timeout ends the query
        }
        fresh->owner = this;
        fresh->fd = fd;
        fresh->handle.data = fresh.get();
        box = fresh.release();
        polls_[fd] = box;
    } else {
        box = it->second;
    }
    const int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
    uv_poll_start(&box->handle, events, on_poll);
}

void Resolver::Impl::on_poll(uv_poll_t* handle, int status, int events) {
    auto* box = static_cast<PollBox*>(handle->data);
    if (box->owner == nullptr) {
        return;
    }
    // An error on the socket: let c-ares read it and see the error itself.
    const bool readable = status < 0 || (events & UV_READABLE) != 0;
    const bool writable = status >= 0 && (events & UV_WRITABLE) != 0;
    box->owner->process(readable ? box->fd : ARES_SOCKET_BAD, writable ? box->fd : ARES_SOCKET_BAD);
}

void Resolver::Impl::on_clock(uv_timer_t* handle) {
    auto* box = static_cast<TimerBox*>(handle->data);
    if (box->owner != nullptr) {
        box->owner->process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    }
}

void Resolver::Impl::process(ares_socket_t read_fd, ares_socket_t write_fd) {
    if (channel_ == nullptr) {
        return;
    }
    ares_process_fd(channel_, read_fd, write_fd);
    schedule_clock();
}

void Resolver::Impl::schedule_clock() {
    if (clock_ == nullptr || channel_ == nullptr) {
        return;
    }
    timeval tv{};
    if (ares_timeout(channel_, nullptr, &tv) == nullptr) {
        uv_timer_stop(&clock_->handle);
        return;
    }
    const auto ms = static_cast<std::uint64_t>(tv.tv_sec) * 1000 +
                    static_cast<std::uint64_t>((tv.tv_usec + 999) / 1000);
    uv_timer_start(&clock_->handle, on_clock, ms, 0);
}

// -- results ----------------------------------------------------------------------------------

void Resolver::Impl::queue(std::uint64_t generation, std::function<void()> deliver) {
    ready_.push_back(Ready{generation, std::move(deliver)});
    if (deliver_ != nullptr) {
        uv_timer_start(&deliver_->handle, on_deliver, 0, 0);
    }
}

void Resolver::Impl::on_deliver(uv_timer_t* handle) {
    auto* box = static_cast<TimerBox*>(handle->data);
    if (box->owner == nullptr) {
        return;
    }
    std::deque<Ready> items = std::move(box->owner->ready_);
    box->owner->ready_.clear();
    for (auto& item : items) {
        // A callback may cancel the rest or destroy the Resolver (which cuts box->owner).
        if (box->owner == nullptr || box->owner->generation_ != item.generation) {
            return;
        }
        item.deliver();
    }
}

void Resolver::Impl::on_srv_reply(void* arg, int status, int, unsigned char* abuf, int alen) {
    std::unique_ptr<Query> query(static_cast<Query*>(arg));
    if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
        return;
    }
    std::vector<SrvAnswer> answers;
    if (status == ARES_SUCCESS) {
        ares_srv_reply* reply = nullptr;
        status = ares_parse_srv_reply(abuf, alen, &reply);
        for (ares_srv_reply* r = reply; r != nullptr; r = r->next) {
            SrvAnswer a;
            a.target = r->host != nullptr ? r->host : "";
            if (a.target.empty()) {
                a.target.push_back('.'); // the root: c-ares gives it as an empty name
            }
            a.port = r->port;
            a.priority = r->priority;
            a.weight = r->weight;
            answers.push_back(std::move(a));
        }
        if (reply != nullptr) {
            ares_free_data(reply);
        }
        if (status == ARES_SUCCESS && answers.empty()) {
            status = ARES_ENODATA;
        }
    }
    Impl* impl = query->impl;
    auto callback = std::move(query->on_srv);
    impl->queue(query->generation,
                [callback = std::move(callback), s = status_of(status),
                 answers = std::move(answers)]() mutable { callback(s, std::move(answers)); });
}

void Resolver::Impl::on_addrinfo(void* arg, int status, int, ares_addrinfo* result) {
    std::unique_ptr<Query> query(static_cast<Query*>(arg));
    std::vector<sockaddr_storage> addresses;
    if (result != nullptr) {
        for (const ares_addrinfo_node* n = result->nodes; n != nullptr; n = n->ai_next) {
            if (n->ai_family != AF_INET && n->ai_family != AF_INET6) {
                continue;
            }
            sockaddr_storage a{};
            std::memcpy(&a, n->ai_addr,
                        std::min<std::size_t>(static_cast<std::size_t>(n->ai_addrlen), sizeof a));
            if (a.ss_family == AF_INET6) {
                reinterpret_cast<sockaddr_in6*>(&a)->sin6_port = htons(query->port);
            } else {
                reinterpret_cast<sockaddr_in*>(&a)->sin_port = htons(query->port);
            }
            addresses.push_back(a);
        }
        ares_freeaddrinfo(result);
    }
    if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
        return;
    }
    if (status == ARES_SUCCESS && addresses.empty()) {
        status = ARES_ENODATA;
    }
    Impl* impl = query->impl;
    auto callback = std::move(query->on_addresses);
    impl->queue(query->generation, [callback = std::move(callback), s = status_of(status),
                                    addresses = std::move(addresses)]() mutable {
        callback(s, std::move(addresses));
    });
}

// -- Resolver ---------------------------------------------------------------------------------

Resolver::Resolver(uv_loop_s* loop, const ResolverOptions& options)
    : impl_(std::make_shared<Impl>(loop, options)) {}

Resolver::~Resolver() = default;

void Resolver::srv(const std::string& name, SrvCallback callback) {
    auto query = std::make_unique<Impl::Query>();
    query->impl = impl_.get();
    query->generation = impl_->generation_;
    query->on_srv = std::move(callback);
    ares_query(impl_->channel_, name.c_str(), ns_c_in, ns_t_srv, Impl::on_srv_reply,
               query.release());
    impl_->schedule_clock();
}

void Resolver::addresses(const std::string& name, std::uint16_t port, AddressCallback callback) {
    auto query = std::make_unique<Impl::Query>();
    query->impl = impl_.get();
    query->generation = impl_->generation_;
    query->port = port;
    query->on_addresses = std::move(callback);
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    ares_getaddrinfo(impl_->channel_, name.c_str(), nullptr, &hints, Impl::on_addrinfo,
                     query.release());
    impl_->schedule_clock();
}

void Resolver::cancel() {
    ++impl_->generation_;
    impl_->ready_.clear();
    // ares_cancel ends every query with ARES_ECANCELLED: each frees its Query, none calls back.
    ares_cancel(impl_->channel_);
    impl_->schedule_clock();
}

} // namespace pcj::detail
