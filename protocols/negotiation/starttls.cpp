// STARTTLS: the decision from the features, the request, and the peer's answer.
#include "starttls.hpp"

#include <string>

#include "pcj/events.hpp"

namespace pcj::detail {

bool starttls_offered(const Node& features) {
    return features.child("starttls", ns_tls) != nullptr;
}

TlsStep starttls_step(ProtocolHost& host, const Node& features, std::string_view peer) {
    const TlsPolicy policy = host.config().tls.policy;
    if (host.encrypted() || policy == TlsPolicy::disabled) {
        return TlsStep::clear;
    }
    if (starttls_offered(features)) {
        return TlsStep::negotiate;
    }
    if (policy == TlsPolicy::required || policy == TlsPolicy::direct) {
        return TlsStep::refuse;
    }
    report_downgrade(host, peer);
    return TlsStep::clear;
}

void report_downgrade(ProtocolHost& host, std::string_view peer) {
    if (!host.wanted(net::TCP_DOWNGRADED)) {
        return;
    }
    const Reason why{"starttls", 0, "tls-not-offered",
                     "the " + std::string(peer) +
                         " does not offer STARTTLS and TLS is optional: the stream goes on "
                         "unencrypted"};
    host.emit(net::TCP_DOWNGRADED, &why);
}

void request_starttls(ProtocolHost& host) {
    host.emit(ev::SSLNEGOTIATE);
    if (host.current()) {
        host.send(Node("starttls", std::string(ns_tls)));
    }
}

bool proceed_with_tls(ProtocolHost& host, const Node& answer, std::string_view peer, Reason* why) {
    if (answer.local_name() != "proceed") {
        *why =
            Reason{"starttls", 0, "starttls-refused",
                   "the " + std::string(peer) + " refused STARTTLS with <" + answer.name() + "/>"};
        return false;
    }
    host.emit(xs::TLS_PROCEED, nullptr, &answer);
    if (host.current()) {
        host.start_tls();
    }
    return true;
}

void restart_stream_over_tls(ProtocolHost& host) {
    host.emit(ev::SSLSUCCESS);
    if (host.current()) {
        host.send_stream_header();
    }
}

} // namespace pcj::detail
