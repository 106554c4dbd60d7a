// Transport: finding the server and connecting to it.
//
// A dial has a list of targets (the host given, or the SRV records of the XMPP domain in
// RFC 2782 / XEP-0368 order, or the domain itself as the fallback). Targets are looked up one at
// a time, when the addresses found so far run out; each lookup's addresses join the queue of
// candidates, IPv6 and IPv4 interleaved (RFC 8305 §4). Attempts start from that queue: the first
// at once, each next one when an attempt fails or when attempt_delay has passed since the last
// one started (RFC 8305 §5), so a target that drops SYNs costs a quarter of a second, not the
// whole connect timeout. The first attempt to connect wins; the others are closed unreported.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include <ares.h>

#include "transport_impl.hpp"

namespace pcj::detail {

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

namespace {

constexpr const char* starttls_service = "_xmpp-client._tcp";
constexpr const char* direct_service = "_xmpps-client._tcp";
constexpr std::uint16_t xmpp_client_port = 5222; // RFC 6120 §3.2.2's fallback

bool numeric_address(const std::string& host, std::uint16_t port, sockaddr_storage& out) {
    out = sockaddr_storage{};
    return uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&out)) == 0 ||
           uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&out)) == 0;
}

// Letters, digits, '-', '_' and dots: a name that can be asked of DNS. Anything else (spaces, a
// stray '@') fails here rather than as a query sent to a server.
bool plausible_name(const std::string& host) {
    return !host.empty() && host.size() <= 253 &&
           host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "0123456789-_.") == std::string::npos;
}

// A failed lookup as a Reason: the codes getaddrinfo would have given, c-ares' text.
Reason lookup_reason(const std::string& name, const LookupStatus& status) {
    int code = -UV_EAI_FAIL;
    if (status.nodata) {
        code = -UV_EAI_NONAME;
    } else if (status.status == ARES_ETIMEOUT || status.status == ARES_ECONNREFUSED) {
        code = -UV_EAI_AGAIN;
    }
    return Reason{"resolve", code, {}, name + ": " + status.text};
}

std::vector<sockaddr_storage> loopback(std::uint16_t port) {
    std::vector<sockaddr_storage> out(2);
    uv_ip6_addr("::1", port, reinterpret_cast<sockaddr_in6*>(&out[0]));
    uv_ip4_addr("127.0.0.1", port, reinterpret_cast<sockaddr_in*>(&out[1]));
    return out;
}

} // namespace

// The dial's own timers (stagger_, soon_) exist only while dialling: an idle connection carries
// one timer, which matters for tens of thousands of connections.
Transport::Impl::Impl(uv_loop_t* loop, Callbacks callbacks)
    : loop_(loop), cb_(std::move(callbacks)) {
    timer_ = make_timer();
}

Transport::Impl::TimerBox* Transport::Impl::make_timer() {
    auto* box = new TimerBox;
    box->owner = this;
    uv_timer_init(loop_, &box->handle); // cannot fail on a valid loop
    box->handle.data = box;
    return box;
}

void Transport::Impl::close_timer(TimerBox*& timer) {
    if (timer != nullptr) {
        timer->owner = nullptr;
        uv_close(reinterpret_cast<uv_handle_t*>(&timer->handle),
                 [](uv_handle_t* h) { delete static_cast<TimerBox*>(h->data); });
        timer = nullptr;
    }
}

// ---------------------------------------------------------------------------------------------
// Starting

void Transport::Impl::connect(Destination destination) {
    reset_connection();
    bytes_read_ = 0;
    bytes_written_ = 0;
    bytes_queued_ = 0;
    peer_ = Peer{};
    dest_ = std::move(destination);
    timeout_ = std::max(dest_.timeout, std::chrono::milliseconds(0));
    state_ = State::resolving;
    try {
        if (dest_.host.empty() && !dest_.srv_domain.empty()) {
            start_srv();
            return;
        }
        DialTarget target;
        target.host = dest_.host;
        target.port = dest_.port;
        target.direct_tls = dest_.direct_tls;
        targets_.push_back(std::move(target));
        pump();
    } catch (...) {
        reset_connection(); // do not stay "resolving" with nothing under way
        throw;
    }
}

Resolver& Transport::Impl::resolver() {
    if (!resolver_) {
        resolver_ = std::make_unique<Resolver>(loop_, dest_.dns);
    }
    return *resolver_;
}

// Runs fn from the loop (once), unless the connection moves on first.
void Transport::Impl::defer(std::function<void()> fn) {
    soon_fn_ = std::move(fn);
    if (soon_ == nullptr) {
        soon_ = make_timer();
    }
    uv_timer_start(&soon_->handle, on_soon, 0, 0);
}

void Transport::Impl::on_soon(uv_timer_t* handle) {
    Impl* impl = static_cast<TimerBox*>(handle->data)->owner;
    if (impl == nullptr || !impl->soon_fn_) {
        return;
    }
    const std::shared_ptr<Impl> self = impl->shared_from_this();
    auto fn = std::exchange(self->soon_fn_, nullptr);
    self->guard("resolve", fn);
}

// ---------------------------------------------------------------------------------------------
// SRV (RFC 6120 §3.2.1, XEP-0368)

void Transport::Impl::start_srv() {
    try {
        resolver();
    } catch (const std::exception& e) {
        const Reason why{"resolve", EINVAL, {}, e.what()};
        defer([this, why] { fail(why); });
        return;
    }
    const std::uint64_t epoch = epoch_;
    const int services = dest_.lookup_direct_tls ? 2 : 1;
    srv_waiting_ = services;
    for (int i = 0; i < services; ++i) {
        const bool direct = i == 1;
        const std::string name =
            std::string(direct ? direct_service : starttls_service) + "." + dest_.srv_domain;
        emit(cb_.on_resolving, name);
        if (epoch != epoch_) {
            return;
        }
        resolver().srv(name, [this, direct](const LookupStatus& s, std::vector<SrvAnswer> a) {
            const std::shared_ptr<Impl> self = shared_from_this();
            guard("resolve", [&] { srv_finished(direct, s, std::move(a)); });
        });
    }
}

void Transport::Impl::srv_finished(bool direct, const LookupStatus& status,
                                   std::vector<SrvAnswer> answers) {
    srv_status_[direct ? 1 : 0] = status;
    srv_answers_[direct ? 1 : 0] = std::move(answers);
    if (--srv_waiting_ > 0) {
        return;
    }
    const auto starttls = targets_of(srv_answers_[0], starttls_service, false);
    const auto tls = dest_.lookup_direct_tls ? targets_of(srv_answers_[1], direct_service, true)
                                             : std::vector<DialTarget>{};
    if (starttls.empty() && tls.empty()) {
        const std::string name = std::string(starttls_service) + "." + dest_.srv_domain;
        if (service_refused(srv_answers_[0])) {
            fail(Reason{"resolve", -UV_EAI_NONAME, "service-unavailable",
                        name + ": the target is \".\": the service is not available there"});
            return;
        }
        srv_fallback(srv_status_[0].ok()
                         ? Reason{"resolve", -UV_EAI_NONAME, {}, name + ": no usable SRV record"}
                         : lookup_reason(name, srv_status_[0]));
        return;
    }
    targets_ = merge_srv(starttls, tls, dest_.prefer_direct_tls, pick_);
    const std::uint64_t epoch = epoch_;
    for (const auto& t : targets_) {
        SrvRecord r;
        r.service = t.service;
        r.target = t.host;
        r.port = t.port;
        r.priority = t.priority;
        r.weight = t.weight;
        r.direct_tls = t.direct_tls;
        emit(cb_.on_srv_record, r);
        if (epoch != epoch_) {
            return;
        }
    }
    pump();
}

// RFC 6120 §3.2.2: the domain's own addresses, on the client port.
void Transport::Impl::srv_fallback(const Reason& why) {
    const std::uint64_t epoch = epoch_;
    emit(cb_.on_srv_fallback, why);
    if (epoch != epoch_) {
        return;
    }
    DialTarget t;
    t.host = dest_.srv_domain;
    t.port = dest_.port != 0 ? dest_.port : xmpp_client_port;
    t.direct_tls = dest_.direct_tls;
    targets_ = {t};
    last_failure_ = why;
    pump();
}

// ---------------------------------------------------------------------------------------------
// Targets and attempts

// Starts what can start now: an attempt (or, when the addresses have run out, the next target's
// lookup) when none is under way or the attempt delay has passed. Fails when nothing is left.
void Transport::Impl::pump() {
    const std::uint64_t epoch = epoch_;
    while (epoch == epoch_ && dialing()) {
        // A new address is wanted exactly when a new attempt may start; only then is the next
        // target looked up, so that a target never needed is never asked for.
        const bool may_start = attempts_.empty() || stagger_due_;
        if (candidates_.empty() && !looking_up_ && next_target_ < targets_.size() && may_start) {
            if (!start_lookup(next_target_++)) {
                return;
            }
            continue;
        }
        if (!candidates_.empty() && may_start) {
            const Candidate candidate = candidates_.front();
            candidates_.pop_front();
            if (!start_attempt(candidate)) {
                return;
            }
            continue;
        }
        if (attempts_.empty() && candidates_.empty() && !looking_up_ &&
            next_target_ >= targets_.size()) {
            Reason why = last_failure_;
            if (why.op.empty()) {
                why = Reason{"connect", EHOSTUNREACH, {}, "nothing to connect to"};
            }
            fail(why);
        }
        return;
    }
}

// Looks up one target's addresses; false when the connection moved on meanwhile.
bool Transport::Impl::start_lookup(std::size_t target) {
    const DialTarget t = targets_[target];
    const std::uint64_t epoch = epoch_;
    emit(cb_.on_resolving, t.host);
    if (epoch != epoch_) {
        return false;
    }
    looking_up_ = true;
    auto finish = [this, target](const LookupStatus& s, std::vector<sockaddr_storage> a) {
        const std::shared_ptr<Impl> self = shared_from_this();
        guard("resolve", [&] { lookup_finished(target, s, std::move(a)); });
    };
    sockaddr_storage numeric{};
    if (t.host.empty()) {
        defer([finish, port = t.port] { finish(LookupStatus{}, loopback(port)); });
    } else if (numeric_address(t.host, t.port, numeric)) {
        defer([finish, numeric] { finish(LookupStatus{}, {numeric}); });
    } else if (!plausible_name(t.host)) {
        LookupStatus bad{ARES_EBADNAME, true, ares_strerror(ARES_EBADNAME)};
        defer([finish, bad] { finish(bad, {}); });
    } else {
        try {
            resolver().addresses(t.host, t.port, finish);
        } catch (const std::exception& e) {
            LookupStatus bad{ARES_EBADFLAGS, false, e.what()};
            defer([finish, bad] { finish(bad, {}); });
        }
    }
    return true;
}

void Transport::Impl::lookup_finished(std::size_t target, const LookupStatus& status,
                                      std::vector<sockaddr_storage> addresses) {
    looking_up_ = false;
    const DialTarget& t = targets_[target];
    const std::uint64_t epoch = epoch_;
    if (!status.ok()) {
        last_failure_ = lookup_reason(t.host, status);
        ::pcj::Attempt a;
        a.name = t.host;
        a.port = t.port;
        a.direct_tls = t.direct_tls;
        emit(cb_.on_attempt_failed, a, last_failure_);
        if (epoch == epoch_) {
            pump();
        }
        return;
    }
    addresses = interleave(addresses);
    std::vector<std::string> names;
    for (const auto& address : addresses) {
        names.push_back(address_text(address));
        candidates_.push_back(Candidate{address, target});
    }
    state_ = State::connecting;
    emit(cb_.on_resolved, names);
    if (epoch == epoch_) {
        pump();
    }
}

::pcj::Attempt Transport::Impl::attempt_of(const Candidate& candidate) const {
    const DialTarget& t = targets_[candidate.target];
    ::pcj::Attempt a;
    sockaddr_storage ignored{};
    a.name = numeric_address(t.host, t.port, ignored) ? "" : t.host;
    a.address = address_text(candidate.address);
    a.family = candidate.address.ss_family == AF_INET6 ? AF_INET6 : AF_INET;
    a.port = t.port;
    a.direct_tls = t.direct_tls;
    return a;
}

// Starts one attempt; false when the connection moved on meanwhile. An attempt that cannot
// even start counts as failed.
bool Transport::Impl::start_attempt(const Candidate& candidate) {
    const std::uint64_t epoch = epoch_;
    state_ = State::connecting;
    emit(cb_.on_connecting, address_text(candidate.address), address_family(candidate.address),
         targets_[candidate.target].port);
    if (epoch != epoch_) {
        return false;
    }
    Attempt attempt;
    attempt.candidate = candidate;
    attempt.id = ++next_attempt_id_;
    attempt.deadline = std::chrono::steady_clock::now() + timeout_;
    auto box = std::make_unique<TcpBox>();
    int rc = uv_tcp_init(loop_, &box->handle);
    if (rc == 0) {
        box->owner = this;
        box->handle.data = box.get();
        attempt.tcp = box.release();
        auto* req = new ReqBox<uv_connect_t>(shared_from_this(), epoch_);
        req->tag = attempt.id;
        rc = uv_tcp_connect(&req->req, &attempt.tcp->handle,
                            reinterpret_cast<const sockaddr*>(&candidate.address), on_connect);
        if (rc != 0) {
            delete req;
        }
    }
    attempts_.push_back(attempt);
    if (rc != 0) {
        return attempt_failed(attempts_.size() - 1, rc);
    }
    stagger_due_ = false;
    if (dest_.attempt_delay.count() > 0) {
        if (stagger_ == nullptr) {
            stagger_ = make_timer();
        }
        uv_timer_start(&stagger_->handle, on_stagger,
                       static_cast<std::uint64_t>(dest_.attempt_delay.count()), 0);
    }
    arm_deadline();
    return true;
}

// Reports one attempt's failure and drops it; false when the connection moved on meanwhile.
bool Transport::Impl::attempt_failed(std::size_t index, int err) {
    const Attempt attempt = attempts_[index];
    attempts_.erase(attempts_.begin() + static_cast<std::ptrdiff_t>(index));
    if (attempt.tcp != nullptr) {
        close_box(attempt.tcp); // a pending connect ends with ECANCELED, for a gone attempt
    }
    last_failure_ = Reason{"connect", -err, {}, uv_strerror(err)};
    stagger_due_ = true; // RFC 8305 §5: the next attempt starts as soon as one fails
    const std::uint64_t epoch = epoch_;
    emit(cb_.on_attempt_failed, attempt_of(attempt.candidate), last_failure_);
    if (epoch != epoch_) {
        return false;
    }
    arm_deadline();
    return true;
}

void Transport::Impl::on_stagger(uv_timer_t* handle) {
    Impl* impl = static_cast<TimerBox*>(handle->data)->owner;
    if (impl == nullptr || !impl->dialing()) {
        return;
    }
    const std::shared_ptr<Impl> self = impl->shared_from_this();
    self->stagger_due_ = true;
    self->guard("connect", [&] { self->pump(); });
}

void Transport::Impl::on_connect(uv_connect_t* req, int status) {
    const auto box = ReqBox<uv_connect_t>::take(req);
    const std::shared_ptr<Impl> self = std::move(box->self);
    if (box->epoch != self->epoch_ || !self->dialing()) {
        return; // aborted or superseded: the handle is already closing
    }
    self->guard("connect", [&] { self->attempt_finished(box->tag, status); });
}

void Transport::Impl::attempt_finished(std::uint64_t id, int status) {
    const auto it = std::find_if(attempts_.begin(), attempts_.end(),
                                 [id](const Attempt& a) { return a.id == id; });
    if (it == attempts_.end()) {
        return; // timed out meanwhile: already reported
    }
    const auto index = static_cast<std::size_t>(it - attempts_.begin());
    if (status < 0) {
        if (attempt_failed(index, status)) {
            pump();
        }
        return;
    }
    won(index);
}

// The first attempt to connect: it becomes the connection, the rest are dropped.
void Transport::Impl::won(std::size_t index) {
    const Attempt winner = attempts_[index];
    attempts_.erase(attempts_.begin() + static_cast<std::ptrdiff_t>(index));
    drop_attempts();
    resolver_.reset();
    uv_timer_stop(&timer_->handle);
    close_timer(stagger_);
    close_timer(soon_);
    soon_fn_ = nullptr;
    candidates_.clear();
    const ::pcj::Attempt a = attempt_of(winner.candidate);
    peer_ = Peer{a.address, address_family(winner.candidate.address), a.port, a.name, a.direct_tls};
    // Only the winner's socket stays: the dial's lists give their memory back, so an idle
    // connection keeps nothing of how it was found (connect() makes them anew).
    std::vector<Attempt>().swap(attempts_);
    std::vector<DialTarget>().swap(targets_);
    for (auto& answers : srv_answers_)
        std::vector<SrvAnswer>().swap(answers);
    tcp_ = winner.tcp;
    state_ = State::connected;
    uv_tcp_nodelay(&tcp_->handle, 1); // XMPP sends small stanzas that must not wait for Nagle
    if (const int rc =
            uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_->handle), on_alloc, on_read);
        rc != 0) {
        fail("read", -rc, uv_strerror(rc));
        return;
    }
    emit(cb_.on_connected);
}

void Transport::Impl::drop_attempts() {
    for (const auto& a : attempts_) {
        if (a.tcp != nullptr) {
            close_box(a.tcp);
        }
    }
    attempts_.clear();
}

// The connect timeout, per attempt: each one past its deadline fails with ETIMEDOUT.
void Transport::Impl::check_deadlines() {
    if (timeout_.count() <= 0) {
        return; // no connect timeout: attempts wait for the kernel's own
    }
    const auto now = std::chrono::steady_clock::now();
    for (;;) {
        const auto it = std::find_if(attempts_.begin(), attempts_.end(),
                                     [now](const Attempt& a) { return a.deadline <= now; });
        if (it == attempts_.end()) {
            break;
        }
        if (!attempt_failed(static_cast<std::size_t>(it - attempts_.begin()), UV_ETIMEDOUT)) {
            return;
        }
    }
    arm_deadline();
    pump();
}

void Transport::Impl::arm_deadline() {
    if (timeout_.count() <= 0 || attempts_.empty()) {
        uv_timer_stop(&timer_->handle);
        return;
    }
    auto first = attempts_.front().deadline;
    for (const auto& a : attempts_) {
        first = std::min(first, a.deadline);
    }
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(first - std::chrono::steady_clock::now());
    uv_timer_start(&timer_->handle, on_timer,
                   static_cast<std::uint64_t>(std::max<long long>(0, left.count())), 0);
}

} // namespace pcj::detail
