// StreamStack: transport ↔ TLS ↔ XML parser, and the quiet check that frees an idle parser.
#include "stream_stack.hpp"

#include <utility>

#include "pcj/error.hpp"

namespace pcj::detail {

namespace {
// How long a connection must receive nothing before its XML parser is freed (≈ 15 KB). A new
// parser costs a few microseconds, so once a second per idle connection is nothing, while
// trimming after every read would cost that on every read of a busy connection.
constexpr std::chrono::milliseconds kQuietPeriod{1000};
} // namespace

StreamStack::StreamStack(uv_loop_s* loop, const Config& config, Emitter& emitter,
                         Graveyard& graveyard, EventRecords& records)
    : loop_(loop), config_(config), emitter_(emitter), graveyard_(graveyard), records_(records) {
    if (*config_.connection_type != ConnectionType::JABBERD14_COMPONENT &&
        config_.tls.policy != TlsPolicy::disabled) {
        tls_options_.verify = config_.tls.verify;
        tls_options_.ca_file = config_.tls.ca_file;
        tls_options_.ca_dir = config_.tls.ca_dir;
        tls_options_.pins = config_.tls.pins;
        tls_options_.client_cert_file = config_.tls.client_cert_file;
        tls_options_.client_key_file = config_.tls.client_key_file;
        tls_options_.priority = config_.tls.priority;
        try {
            // What fails without reading a file fails here; the files are read (once per
            // process) at the first TLS start, where their records reach subscribers.
            TlsCredentials::check(tls_options_);
        } catch (const std::exception& e) {
            throw ConfigError(std::string("tls: ") + e.what());
        }
        tls_possible_ = true;
    }
    transport_ = std::make_unique<Transport>(loop_, transport_callbacks());
    xml_ = std::make_unique<XmlStream>(
        parser_callbacks(),
        XmlStream::Limits{config_.max_stanza_size, config_.max_depth, config_.max_attributes,
                          config_.max_namespace_declarations, config_.max_stanza_time});
}

Transport::Callbacks StreamStack::transport_callbacks() {
    Transport::Callbacks tc;
    tc.on_resolving = [this](const std::string& host) {
        graveyard_.guarded("on_resolving", [this, &host] { records_.on_resolving(host); });
    };
    tc.on_resolved = [this](const std::vector<std::string>& addresses) {
        graveyard_.guarded("on_resolved", [this, &addresses] { records_.on_resolved(addresses); });
    };
    tc.on_connecting = [this](const std::string& address, int family, std::uint16_t port) {
        graveyard_.guarded("on_connecting", [&] { records_.on_connecting(address, family, port); });
    };
    tc.on_connected = [this] {
        graveyard_.guarded("on_connected", [this] {
            records_.on_connected_to(transport_->peer());
            listener_->on_connected();
        });
    };
    tc.on_srv_record = [this](const SrvRecord& r) {
        graveyard_.guarded("on_srv_record", [&] { records_.on_srv_record(r); });
    };
    tc.on_srv_fallback = [this](const Reason& why) {
        graveyard_.guarded("on_srv_fallback", [&] { records_.on_srv_fallback(why); });
    };
    tc.on_attempt_failed = [this](const Attempt& a, const Reason& why) {
        graveyard_.guarded("on_attempt_failed", [&] { records_.on_attempt_failed(a, why); });
    };
    tc.on_data = [this](std::string_view bytes) {
        graveyard_.guarded("on_data", [this, bytes] { on_data(bytes); });
    };
    tc.on_sent = [this](std::size_t bytes) {
        if (records_.io().packet_sent) {
            graveyard_.guarded("on_sent", [this, bytes] {
                records_.on_packet_sent(bytes, transport_->bytes_written(),
                                        transport_->bytes_queued());
            });
        }
    };
    tc.on_drain = [this] {
        if (records_.io().ready_to_write) {
            graveyard_.guarded("on_drain", [this] { on_drain(); });
        } else {
            plain_at_drain_ = plain_written_;
        }
    };
    tc.on_failure = [this](const Reason& r) {
        graveyard_.guarded("on_failure", [this, &r] { listener_->on_transport_failure(r); });
    };
    tc.on_closed = [this] {
        graveyard_.guarded("on_closed", [this] { listener_->on_transport_closed(); });
    };
    return tc;
}

XmlStream::Callbacks StreamStack::parser_callbacks() {
    XmlStream::Callbacks xc;
    xc.on_stream_start = [this](Node header) {
        listener_->on_stream_start(std::move(header));
    };
    // The stream lends each stanza (its storage is reused for the next one): the core only
    // reads it, and Event::node is valid only during the event anyway.
    xc.on_stanza = [this](const Node& node) {
        sink_->on_stanza(node);
    };
    xc.on_stream_end = [this] {
        listener_->on_stream_end();
    };
    xc.on_error = [this](const Reason& r) {
        listener_->on_xml_error(r);
    };
    return xc;
}

void StreamStack::start_connection() {
    if (quiet_timer_) {
        quiet_timer_->stop();
    }
    xml_->reset();
    closing_ = false;
    live_ = true;
    plain_read_ = 0;
    plain_written_ = 0;
    plain_at_drain_ = 0;
    last_received_ = std::chrono::steady_clock::now();
}

// Where the transport goes: the host given, or, for a client without one, the servers the SRV
// records of the XMPP domain name (doc/connecting.md).
Destination StreamStack::destination(std::string host, std::uint16_t port) const {
    Destination d;
    const auto type = *config_.connection_type;
    if (host.empty() && (type == ConnectionType::XMPP || type == ConnectionType::LEGACY)) {
        d.srv_domain = config_.hostname;
    }
    d.host = std::move(host);
    d.port = port;
    d.direct_tls = config_.tls.policy == TlsPolicy::direct && tls_possible_;
    d.lookup_direct_tls = tls_possible_;
    d.prefer_direct_tls = d.direct_tls;
    d.dns = ResolverOptions{config_.dns.servers, config_.dns.timeout, config_.dns.tries};
    d.timeout = config_.connect_timeout;
    d.attempt_delay = config_.dns.attempt_delay;
    return d;
}

void StreamStack::connect(std::string host, std::uint16_t port) {
    transport_->connect(destination(std::move(host), port));
}

void StreamStack::close_gracefully() {
    if (closing_) {
        return;
    }
    closing_ = true;
    if (tls_ && tls_->established()) {
        tls_->close(); // close_notify before the TCP close
    }
    transport_->close();
}

void StreamStack::on_disconnected() {
    live_ = false;
    if (quiet_timer_) {
        quiet_timer_->stop();
    }
}

void StreamStack::release() {
    tls_.reset();
    transport_.reset();
    quiet_timer_.reset();
}

// -- bytes in ---------------------------------------------------------------------------------

// Stage 1, the socket: the packet record, then TLS or straight to the parser.
void StreamStack::on_data(std::string_view bytes) {
    last_received_ = std::chrono::steady_clock::now();
    if (records_.io().packet_read &&
        !records_.on_packet_read(bytes.size(), transport_->bytes_read())) {
        return;
    }
    if (tls_) {
        tls_->feed(bytes); // stage 2: its plaintext comes back through feed_parser()
    } else {
        feed_parser(bytes);
    }
}

// Stage 3, the parser: read, then feed, then whatever the parser finds in it (to the Listener
// and the StanzaSink).
void StreamStack::feed_parser(std::string_view bytes) {
    plain_read_ += bytes.size();
    const EventRecords::IoWanted& w = records_.io();
    if ((w.read || w.feed) && !records_.on_plaintext_read(bytes, plain_read_)) {
        return;
    }
    const std::string_view outer = std::exchange(feeding_, bytes);
    const Emitter::Token connection = emitter_.token();
    xml_->feed(bytes);
    feeding_ = outer;
    if (connection.current()) { // not when the connection ended or was replaced meanwhile
        note_quiet_later();
    }
}

// Data arrived: make sure a quiet check is pending. Only a flag per read; the timer is
// started only when it is not already running.
void StreamStack::note_quiet_later() {
    fed_since_quiet_check_ = true;
    if (!quiet_timer_) {
        quiet_timer_ = std::make_unique<Timer>(loop_);
    }
    if (!quiet_timer_->active()) {
        quiet_timer_->start(kQuietPeriod, [this] {
            graveyard_.guarded("quiet timer", [this] { on_quiet_timer(); });
        });
    }
}

// Frees the parser when nothing arrived for a whole period (so between one and two periods
// after the last read); XmlStream::trim() declines unless the stream is between stanzas with
// nothing unparsed, and then the next read starts a new check.
void StreamStack::on_quiet_timer() {
    if (fed_since_quiet_check_) {
        note_quiet_later(); // data came during this period: look again after the next one
        fed_since_quiet_check_ = false;
        return;
    }
    xml_->trim();
    if (quiet_hook_) {
        quiet_hook_();
    }
}

// -- bytes out --------------------------------------------------------------------------------

void StreamStack::send(std::string_view bytes) {
    plain_written_ += bytes.size();
    if (tls_ && tls_->established()) {
        tls_->write(bytes);
    } else {
        transport_->write(std::string(bytes));
    }
    records_.on_plaintext_written(bytes.size(), plain_written_);
}

void StreamStack::on_drain() {
    if (!live_) {
        return;
    }
    const std::uint64_t flushed = plain_written_ - plain_at_drain_;
    plain_at_drain_ = plain_written_;
    records_.on_drain(flushed, plain_written_);
}

// -- TLS --------------------------------------------------------------------------------------

// Loads the credentials on the first TLS start of this component (a process-wide cache means
// only the first component to need them reads the files and sees their records). A file that
// cannot be used fails TLS (ssl_failed, PCJ_SSLFAIL) with the reason naming it.
bool StreamStack::load_tls_credentials() {
    if (tls_credentials_) {
        return true;
    }
    const Emitter::Token connection = emitter_.token();
    TlsCredentials::FileObserver observer;
    if (emitter_.wanted(sock::OPEN_FILE) || emitter_.wanted(sock::FILE_OPENED) ||
        emitter_.wanted(sock::DATA_READ)) {
        observer = [this, connection](SocketRecord& r) {
            if (connection.current()) {
                records_.record(r);
            }
        };
    }
    try {
        tls_credentials_ = TlsCredentials::get(tls_options_, observer);
    } catch (const Error& e) {
        if (connection.current()) {
            tls_failed(Reason{"tls", 0, "ssl_failed", e.what()});
        }
        return false;
    }
    return connection.current();
}

void StreamStack::start_tls() {
    if (!tls_possible_ || tls_) {
        return;
    }
    if (!load_tls_credentials()) {
        return;
    }
    if (!tls_options_.verify) {
        emitter_.log(LogLevel::warning, "TLS certificate verification is OFF for " +
                                            config_.hostname +
                                            ": the connection can be intercepted");
    }
    // Each handler holds `this` and the connection's generation (no heap block, unlike a Token).
    const std::uint64_t connection = emitter_.generation();
    if (!emitter_.emit(net::SSL_START) || !records_.record(Code::start_ssl, Source::tls)) {
        return;
    }
    TlsSession::Callbacks cb;
    cb.send = [this, connection](std::string_view ciphertext) {
        if (emitter_.current(connection)) {
            transport_->write(std::string(ciphertext));
        }
    };
    cb.on_plaintext = [this, connection](std::string_view plaintext) {
        if (emitter_.current(connection)) {
            feed_parser(plaintext);
        }
    };
    cb.on_established = [this, connection] {
        if (emitter_.current(connection)) {
            tls_established();
        }
    };
    cb.on_failure = [this, connection](const Reason& r) {
        if (emitter_.current(connection)) {
            tls_failed(r);
        }
    };
    cb.on_closed = [this, connection] {
        if (emitter_.current(connection)) {
            listener_->on_tls_closed();
        }
    };
    tls_ = std::make_unique<TlsSession>(tls_credentials_, tls_options_, config_.hostname,
                                        std::move(cb));
    tls_->start();
}

void StreamStack::tls_established() {
    if (config_.debug) {
        emitter_.log(LogLevel::debug,
                     "TLS established: " + tls_->protocol_version() + " " + tls_->cipher());
    }
    TlsInfo info;
    info.cipher = tls_->cipher();
    info.protocol = tls_->protocol_version();
    info.peer = config_.hostname;
    info.verified = tls_options_.verify || !tls_options_.pins.empty();
    if (records_.announce_tls_established(std::move(info))) {
        listener_->on_tls_established();
    }
}

void StreamStack::tls_failed(const Reason& reason) {
    if (records_.announce_tls_failure(reason)) {
        listener_->on_tls_failure(reason);
    }
}

std::pair<std::string, std::string> StreamStack::channel_binding() const {
    if (!encrypted()) {
        return {};
    }
    return tls_->channel_binding();
}

} // namespace pcj::detail
