// EventRecords: when each socket record and connection event fires, and what it carries
// (doc/events.md).
#include "event_records.hpp"

#include <utility>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "ids.hpp"
#include "stream_error.hpp"

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

void EventRecords::refresh_io() {
    IoWanted& w = io_;
    w.revision = emitter_.revision();
    w.packet_read = emitter_.wanted(sock::PACKET_READ);
    w.read = emitter_.wanted(net::READ);
    w.feed = emitter_.wanted(xs::FEED);
    w.packet_sent = emitter_.wanted(sock::PACKET_SENT);
    w.write = emitter_.wanted(net::WRITE);
    w.ready_to_write = emitter_.wanted(net::READY_TO_WRITE);
}

void EventRecords::start_connection() {
    connection_id_ = next_connection_id();
    deleted_owed_ = true;
    lost_reason_.reset();
    peer_ = Endpoint{};
    stream_error_condition_.clear();
    stream_error_text_.clear();
    other_host_.clear();
}

bool EventRecords::record(SocketRecord& r) {
    const std::string_view name = to_string(r.code);
    if (!emitter_.wanted(name)) {
        return true;
    }
    r.id = connection_id_;
    return emitter_.emit(name, Payload(r));
}

bool EventRecords::record(Code code, Source source) {
    SocketRecord r;
    r.code = code;
    r.source = source;
    return record(r);
}

// -- the transport's progress -----------------------------------------------------------------

// A numeric address is not looked up (getaddrinfo only parses it): no lookup records then.
void EventRecords::on_resolving(const std::string& host) {
    name_lookup_ = !host.empty() && !numeric_address(host);
    if (!name_lookup_ || !emitter_.wanted(sock::HOSTNAME_LOOKUP)) {
        return;
    }
    SocketRecord r;
    r.code = Code::hostname_lookup;
    r.source = Source::socket;
    r.name = host;
    record(r);
}

// One record per address, in the order they will be tried.
void EventRecords::on_resolved(const std::vector<std::string>& addresses) {
    if (!name_lookup_ || !emitter_.wanted(sock::HOSTNAME_RESOLVED)) {
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

void EventRecords::on_connecting(const std::string& address, int family, std::uint16_t port) {
    peer_.address = address;
    peer_.family = family == 6 ? AF_INET6 : AF_INET;
    peer_.port = port;
    if (!emitter_.wanted(sock::CONNECTING)) {
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

void EventRecords::on_connected_to(const Peer& p) {
    peer_ = Endpoint{p.address, p.family == 6 ? AF_INET6 : AF_INET, p.port, p.name, p.direct_tls};
}

void EventRecords::on_srv_record(const SrvRecord& record) {
    if (emitter_.wanted(net::SRV_RECORD)) {
        emitter_.emit(net::SRV_RECORD, Payload(record));
    }
}

void EventRecords::on_srv_fallback(const Reason& why) {
    emitter_.emit(net::SRV_FALLBACK, &why);
}

void EventRecords::on_attempt_failed(const Attempt& attempt, const Reason& why) {
    if (emitter_.wanted(net::ATTEMPT_FAILED)) {
        emitter_.emit(net::ATTEMPT_FAILED, Payload(attempt), nullptr, &why);
    }
}

// EVENT_CONNECTED, tcp_established (or tcp_restablished after an earlier connection of this
// component), ready_to_read: the socket reads from now on.
bool EventRecords::announce_connected() {
    socket_open_ = true;
    if (!record(Code::connected)) {
        return false;
    }
    const std::string_view event = ever_established_ ? net::TCP_RESTABLISHED : net::TCP_ESTABLISHED;
    ever_established_ = true;
    if (emitter_.wanted(event) && !emitter_.emit(event, Payload(peer_))) {
        return false;
    }
    return emitter_.emit(net::READY_TO_READ);
}

bool EventRecords::on_packet_read(std::size_t bytes, std::uint64_t total) {
    SocketRecord r;
    r.code = Code::packet_read;
    r.source = Source::socket;
    r.bytes = bytes;
    r.total = total;
    return record(r);
}

void EventRecords::on_packet_sent(std::size_t bytes, std::uint64_t total, std::uint64_t queued) {
    SocketRecord r;
    r.code = Code::packet_sent;
    r.source = Source::socket;
    r.bytes = bytes;
    r.total = total;
    r.total_to_send = queued;
    record(r);
}

bool EventRecords::on_plaintext_read(std::string_view bytes, std::uint64_t total) {
    const IoWanted& w = io();
    if (w.read && !emitter_.emit(net::READ, Payload(Traffic{bytes.size(), total}))) {
        return false;
    }
    return !w.feed || emitter_.emit(xs::FEED, Payload(Text{std::string(bytes)}));
}

void EventRecords::on_plaintext_written(std::size_t bytes, std::uint64_t total) {
    if (io().write) {
        emitter_.emit(net::WRITE, Payload(Traffic{bytes, total}));
    }
}

void EventRecords::on_drain(std::uint64_t flushed, std::uint64_t total) {
    emitter_.emit(net::READY_TO_WRITE, Payload(Traffic{flushed, total}));
}

// -- TLS --------------------------------------------------------------------------------------

bool EventRecords::announce_tls_established(TlsInfo info) {
    if (emitter_.wanted(sock::SSL_ESTABLISHED)) {
        SocketRecord r;
        r.code = Code::ssl_established;
        r.source = Source::tls;
        r.cipher = info.cipher;
        r.protocol = info.protocol;
        if (!record(r)) {
            return false;
        }
    }
    if (emitter_.wanted(net::SSL_ESTABLISHED) &&
        !emitter_.emit(net::SSL_ESTABLISHED, Payload(std::move(info)))) {
        return false;
    }
    return emitter_.emit(net::READY_TO_READ);
}

bool EventRecords::announce_tls_failure(const Reason& reason) {
    lost_reason_ = reason;
    return emitter_.emit(tls_failure_event(reason), &reason);
}

// -- the stream and its end -------------------------------------------------------------------

bool EventRecords::on_stream_error(const Node& error) {
    const Reason why = stream_error_reason(error);
    stream_error_condition_ = why.condition;
    stream_error_text_ = why.text;
    if (why.condition == "see-other-host") {
        for (const Node* child : error.elements()) {
            if (child->local_name() == "see-other-host") {
                other_host_ = child->text();
            }
        }
    }
    return !emitter_.wanted(xs::ERROR) || emitter_.emit(xs::ERROR, &why, &error);
}

Reason EventRecords::stream_end_reason() const {
    return Reason{"stream", 0,
                  stream_error_condition_.empty() ? "peer-closed" : stream_error_condition_,
                  stream_error_text_.empty() ? "the server closed the stream" : stream_error_text_};
}

bool EventRecords::announce_closed(bool with_disconnect) {
    if (!socket_open_) {
        return true;
    }
    socket_open_ = false;
    if (!record(Code::channel_closed)) {
        return false;
    }
    return !with_disconnect ||
           emitter_.emit(net::TCP_DISCONNECT, lost_reason_ ? &*lost_reason_ : nullptr);
}

// The last record of a connection id: its transport state is gone.
void EventRecords::announce_deleted() {
    if (!deleted_owed_) {
        return;
    }
    deleted_owed_ = false;
    record(Code::deleted);
}

} // namespace pcj::detail
