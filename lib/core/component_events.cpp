// ComponentImpl: seeds/004's socket records and seeds/000's connection events — when each fires
// and what it carries (doc/events.md), kept apart from the lifecycle code that calls them.
#include <chrono>
#include <utility>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "component_impl.hpp"
#include "protocol.hpp"

namespace pcj::detail {

namespace {

bool numeric_address(const std::string& host) {
    unsigned char buffer[16];
    return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
           inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

// The net:: event of a TLS failure is named by its condition (TlsSession classifies it).
std::string_view tls_failure_event(const Reason& reason) {
    if (reason.condition == net::SSL_INVALID_CHAIN) {
        return net::SSL_INVALID_CHAIN;
    }
    if (reason.condition == net::SSL_INVALID_CERT) {
        return net::SSL_INVALID_CERT;
    }
    return net::SSL_FAILED;
}

} // namespace

Transport::Callbacks ComponentImpl::transport_callbacks() {
    Transport::Callbacks tc;
    tc.on_resolving = [this](const std::string& host) {
        guarded("on_resolving", [this, &host] { on_resolving(host); });
    };
    tc.on_resolved = [this](const std::vector<std::string>& addresses) {
        guarded("on_resolved", [this, &addresses] { on_resolved(addresses); });
    };
    tc.on_connecting = [this](const std::string& address, int family, std::uint16_t port) {
        guarded("on_connecting", [&] { on_connecting(address, family, port); });
    };
    tc.on_connected = [this] {
        guarded("on_connected", [this] {
            // With happy eyeballs the address that won need not be the last one tried.
            const Peer& p = transport_->peer();
            peer_ = Endpoint{p.address, p.family == 6 ? AF_INET6 : AF_INET, p.port, p.name,
                             p.direct_tls};
            on_connected();
        });
    };
    tc.on_srv_record = [this](const SrvRecord& r) {
        guarded("on_srv_record", [&] { emit(net::SRV_RECORD, Payload(r)); });
    };
    tc.on_srv_fallback = [this](const Reason& why) {
        guarded("on_srv_fallback", [&] { emit(net::SRV_FALLBACK, &why); });
    };
    tc.on_attempt_failed = [this](const Attempt& a, const Reason& why) {
        guarded("on_attempt_failed", [&] { emit(net::ATTEMPT_FAILED, Payload(a), nullptr, &why); });
    };
    tc.on_data = [this](std::string_view bytes) {
        guarded("on_data", [this, bytes] { on_data(bytes); });
    };
    tc.on_sent = [this](std::size_t bytes) {
        if (io_wanted().packet_sent) {
            guarded("on_sent", [this, bytes] { on_sent(bytes); });
        }
    };
    tc.on_drain = [this] {
        if (io_wanted().ready_to_write) {
            guarded("on_drain", [this] { on_drain(); });
        } else {
            plain_at_drain_ = plain_written_;
        }
    };
    tc.on_failure = [this](const Reason& r) {
        guarded("on_failure", [this, &r] { on_transport_failure(r); });
    };
    tc.on_closed = [this] {
        guarded("on_closed", [this] { on_transport_closed(); });
    };
    return tc;
}

void ComponentImpl::refresh_io_wanted() {
    IoEventsWanted& w = io_events_;
    w.revision = events_.revision();
    w.packet_read = wanted(sock::PACKET_READ);
    w.read = wanted(net::READ);
    w.feed = wanted(xs::FEED);
    w.packet_sent = wanted(sock::PACKET_SENT);
    w.write = wanted(net::WRITE);
    w.ready_to_write = wanted(net::READY_TO_WRITE);
}

// -- socket records ---------------------------------------------------------------------------

bool ComponentImpl::record(SocketRecord& r) {
    const std::uint64_t gen = generation_;
    const std::string_view name = to_string(r.code);
    if (!wanted(name)) {
        return true;
    }
    r.id = connection_id_;
    emit(name, Payload(r));
    return gen == generation_;
}

bool ComponentImpl::record(Code code, Source source) {
    SocketRecord r;
    r.code = code;
    r.source = source;
    return record(r);
}

// A numeric address is not looked up (the transport only parses it): no lookup records then.
void ComponentImpl::on_resolving(const std::string& host) {
    name_lookup_ = !host.empty() && !numeric_address(host);
    if (!name_lookup_ || !wanted(sock::HOSTNAME_LOOKUP)) {
        return;
    }
    SocketRecord r;
    r.code = Code::hostname_lookup;
    r.source = Source::socket;
    r.name = host;
    record(r);
}

// One record per address, in the order they will be tried.
void ComponentImpl::on_resolved(const std::vector<std::string>& addresses) {
    if (!name_lookup_ || !wanted(sock::HOSTNAME_RESOLVED)) {
        return;
    }
    for (const auto& address : addresses) {
        SocketRecord r;
        r.code = Code::hostname_resolved;
        r.source = Source::socket;
        r.address = address;
        if (!record(r)) {
            return;
        }
    }
}

void ComponentImpl::on_connecting(const std::string& address, int family, std::uint16_t port) {
    peer_.address = address;
    peer_.family = family == 6 ? AF_INET6 : AF_INET;
    peer_.port = port;
    if (!wanted(sock::CONNECTING)) {
        return;
    }
    SocketRecord r;
    r.code = Code::connecting;
    r.source = Source::socket;
    r.address = peer_.address;
    r.family = peer_.family;
    r.port = peer_.port;
    record(r);
}

// EVENT_CONNECTED, tcp_established (or tcp_restablished after an earlier connection of this
// component), ready_to_read: the socket reads from now on.
bool ComponentImpl::announce_connected() {
    const std::uint64_t gen = generation_;
    socket_open_ = true;
    if (!record(Code::connected)) {
        return false;
    }
    const std::string_view event = ever_established_ ? net::TCP_RESTABLISHED : net::TCP_ESTABLISHED;
    ever_established_ = true;
    if (wanted(event)) {
        emit(event, Payload(peer_));
        if (gen != generation_) {
            return false;
        }
    }
    emit(net::READY_TO_READ);
    return gen == generation_;
}

// -- bytes in and out -------------------------------------------------------------------------

void ComponentImpl::on_data(std::string_view bytes) {
    last_received_ = std::chrono::steady_clock::now();
    if (io_wanted().packet_read) {
        SocketRecord r;
        r.code = Code::packet_read;
        r.source = Source::socket;
        r.bytes = bytes.size();
        r.total = transport_->bytes_read();
        if (!record(r)) {
            return;
        }
    }
    if (tls_) {
        tls_->feed(bytes);
    } else {
        feed_parser(bytes);
    }
}

// The plaintext for the parser: read, then feed, then whatever the parser finds in it.
void ComponentImpl::feed_parser(std::string_view bytes) {
    plain_read_ += bytes.size();
    const IoEventsWanted& w = io_wanted();
    if (w.read || w.feed) {
        const std::uint64_t gen = generation_;
        if (w.read) {
            emit(net::READ, Payload(Traffic{bytes.size(), plain_read_}));
        }
        if (gen == generation_ && w.feed) {
            emit(xs::FEED, Payload(Text{std::string(bytes)}));
        }
        if (gen != generation_) {
            return;
        }
    }
    const std::string_view outer = std::exchange(feeding_, bytes);
    const std::uint64_t fed_gen = generation_;
    xml_->feed(bytes);
    feeding_ = outer;
    if (fed_gen == generation_) { // not when the connection ended or was replaced meanwhile
        note_quiet_later();
    }
}

namespace {
// How long a connection must receive nothing before its XML parser is freed (≈ 15 KB). A new
// parser costs a few microseconds, so once a second per idle connection is nothing, while
// trimming after every read would cost that on every read of a busy connection.
constexpr std::chrono::milliseconds kQuietPeriod{1000};
} // namespace

// Data arrived: make sure a quiet check is pending. Only a flag per read; the timer is
// started only when it is not already running.
void ComponentImpl::note_quiet_later() {
    fed_since_quiet_check_ = true;
    if (!quiet_timer_) {
        quiet_timer_ = std::make_unique<Timer>(loop_);
    }
    if (!quiet_timer_->active()) {
        quiet_timer_->start(kQuietPeriod,
                            [this] { guarded("quiet timer", [this] { on_quiet_timer(); }); });
    }
}

// Frees the parser when nothing arrived for a whole period (so between one and two periods
// after the last read); XmlStream::trim() declines unless the stream is between stanzas with
// nothing unparsed, and then the next read starts a new check.
void ComponentImpl::on_quiet_timer() {
    if (fed_since_quiet_check_) {
        note_quiet_later(); // data came during this period: look again after the next one
        fed_since_quiet_check_ = false;
        return;
    }
    if (xml_) {
        xml_->trim();
    }
}

void ComponentImpl::send_bytes(std::string_view bytes) {
    plain_written_ += bytes.size();
    if (tls_ && tls_->established()) {
        tls_->write(bytes);
    } else {
        transport_->write(std::string(bytes));
    }
    if (io_wanted().write) {
        emit(net::WRITE, Payload(Traffic{bytes.size(), plain_written_}));
    }
}

void ComponentImpl::on_sent(std::size_t bytes) {
    SocketRecord r;
    r.code = Code::packet_sent;
    r.source = Source::socket;
    r.bytes = bytes;
    r.total = transport_->bytes_written();
    r.total_to_send = transport_->bytes_queued();
    record(r);
}

void ComponentImpl::on_drain() {
    if (state_ == State::disconnected) {
        return;
    }
    const std::uint64_t flushed = plain_written_ - plain_at_drain_;
    plain_at_drain_ = plain_written_;
    emit(net::READY_TO_WRITE, Payload(Traffic{flushed, plain_written_}));
}

// -- TLS --------------------------------------------------------------------------------------

bool ComponentImpl::announce_tls_established() {
    const std::uint64_t gen = generation_;
    if (wanted(sock::SSL_ESTABLISHED)) {
        SocketRecord r;
        r.code = Code::ssl_established;
        r.source = Source::tls;
        r.cipher = tls_->cipher();
        r.protocol = tls_->protocol_version();
        if (!record(r)) {
            return false;
        }
    }
    if (wanted(net::SSL_ESTABLISHED)) {
        TlsInfo info;
        info.cipher = tls_->cipher();
        info.protocol = tls_->protocol_version();
        info.peer = config_.hostname;
        info.verified = tls_options_.verify || !tls_options_.pins.empty();
        emit(net::SSL_ESTABLISHED, Payload(std::move(info)));
        if (gen != generation_) {
            return false;
        }
    }
    emit(net::READY_TO_READ);
    return gen == generation_;
}

bool ComponentImpl::announce_tls_failure(const Reason& reason) {
    const std::uint64_t gen = generation_;
    lost_reason_ = reason;
    emit(tls_failure_event(reason), &reason);
    return gen == generation_;
}

// -- the stream -------------------------------------------------------------------------------

bool ComponentImpl::on_stream_error(const Node& error) {
    const Reason why = stream_error_reason(error);
    last_stream_error_condition_ = why.condition;
    last_stream_error_text_ = why.text;
    if (!wanted(xs::ERROR)) {
        return true;
    }
    const std::uint64_t gen = generation_;
    emit(xs::ERROR, &why, &error);
    return gen == generation_;
}

// -- the end ----------------------------------------------------------------------------------

// EVENT_CHANNEL_CLOSED and, when the connection ended (not replaced by connect()),
// tcp_disconnect with the reason it was lost for, if it was.
bool ComponentImpl::announce_closed(bool with_disconnect) {
    if (!socket_open_) {
        return true;
    }
    const std::uint64_t gen = generation_;
    socket_open_ = false;
    if (!record(Code::channel_closed)) {
        return false;
    }
    if (with_disconnect) {
        emit(net::TCP_DISCONNECT, lost_reason_ ? &*lost_reason_ : nullptr);
    }
    return gen == generation_;
}

// The last record of a connection id: its transport state is gone.
void ComponentImpl::announce_deleted() {
    if (!deleted_owed_) {
        return;
    }
    deleted_owed_ = false;
    record(Code::deleted);
}

} // namespace pcj::detail
