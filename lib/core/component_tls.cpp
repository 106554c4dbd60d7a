// ComponentImpl: TLS on the connection — credentials (with their file records), the session,
// and what its establishment or failure means for the connection.
#include "component_impl.hpp"
#include "pcj/error.hpp"

namespace pcj::detail {

// Loads the credentials on the first TLS start of this component (a process-wide cache means
// only the first component to need them reads the files and sees their records). A file that
// cannot be used fails TLS (ssl_failed, PCJ_SSLFAIL) with the reason naming it.
bool ComponentImpl::load_tls_credentials() {
    if (tls_credentials_) {
        return true;
    }
    const std::uint64_t gen = generation_;
    TlsCredentials::FileObserver observer;
    if (wanted(sock::OPEN_FILE) || wanted(sock::FILE_OPENED) || wanted(sock::DATA_READ)) {
        observer = [this, gen](SocketRecord& r) {
            if (gen == generation_) {
                record(r);
            }
        };
    }
    try {
        tls_credentials_ = TlsCredentials::get(tls_options_, observer);
    } catch (const Error& e) {
        if (gen == generation_) {
            on_tls_failure(Reason{"tls", 0, "ssl_failed", e.what()});
        }
        return false;
    }
    return gen == generation_;
}

void ComponentImpl::start_tls() {
    if (!tls_possible_ || tls_) {
        return;
    }
    if (!load_tls_credentials()) {
        return;
    }
    if (!tls_options_.verify) {
        log(LogLevel::warning, "TLS certificate verification is OFF for " + config_.hostname +
                                   ": the connection can be intercepted");
    }
    const std::uint64_t gen = generation_;
    emit(net::SSL_START);
    if (gen != generation_ || !record(Code::start_ssl, Source::tls)) {
        return;
    }
    TlsSession::Callbacks cb;
    cb.send = [this, gen](std::string_view ciphertext) {
        if (gen == generation_) {
            transport_->write(std::string(ciphertext));
        }
    };
    cb.on_plaintext = [this, gen](std::string_view plaintext) {
        if (gen == generation_) {
            feed_parser(plaintext);
        }
    };
    cb.on_established = [this, gen] {
        if (gen == generation_) {
            on_tls_established();
        }
    };
    cb.on_failure = [this, gen](const Reason& r) {
        if (gen == generation_) {
            on_tls_failure(r);
        }
    };
    cb.on_closed = [this, gen] {
        if (gen == generation_) {
            on_tls_closed();
        }
    };
    tls_ = std::make_unique<TlsSession>(tls_credentials_, tls_options_, config_.hostname,
                                        std::move(cb));
    tls_->start();
}

void ComponentImpl::on_tls_established() {
    if (config_.debug) {
        log(LogLevel::debug, "TLS established: " + tls_->protocol_version() + " " + tls_->cipher());
    }
    if (!announce_tls_established() || !protocol_) {
        return;
    }
    if (peer_.direct_tls && !direct_tls_started_) {
        direct_tls_started_ = true;
        protocol_->on_connected();
        return;
    }
    protocol_->on_tls_established();
}

void ComponentImpl::on_tls_failure(const Reason& reason) {
    if (!announce_tls_failure(reason)) {
        return;
    }
    if (state_ != State::negotiating && state_ != State::ready) {
        close_transport_gracefully();
        return;
    }
    const std::uint64_t gen = generation_;
    state_ = State::shutting_down;
    shutdown_events_ = false;
    negotiation_timer_->stop();
    log(LogLevel::warning, "TLS failed: " + reason.to_string());
    if (protocol_) {
        protocol_->on_tls_failed(reason);
    }
    if (gen == generation_) {
        close_transport_gracefully();
    }
}

void ComponentImpl::on_tls_closed() {
    // The peer's close_notify; its TCP close follows and ends the connection.
    if (state_ == State::shutting_down) {
        close_transport_gracefully();
    }
}

} // namespace pcj::detail
