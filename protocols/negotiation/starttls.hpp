// STARTTLS (RFC 6120 §5.4) as the XMPP client, the LEGACY client and the jabberd2 component do it.
#pragma once

#include <string_view>

#include "protocol.hpp"

namespace pcj::detail {

inline constexpr std::string_view ns_tls = "urn:ietf:params:xml:ns:xmpp-tls";

bool starttls_offered(const Node& features);

// What the features of a stream mean for TLS under the configured policy.
enum class TlsStep {
    negotiate, // <starttls/> offered and TLS wanted: call request_starttls()
    refuse,    // TLS required (or direct) and not offered: fail with tls-not-offered
    clear,     // go on unencrypted: already encrypted, TLS disabled, or optional and not offered
};

// Decides the step; for `clear` because TLS is optional and not offered (the only fallback the
// configuration can allow), fires net::TCP_DOWNGRADED with `peer` in its reason first.
TlsStep starttls_step(ProtocolHost& host, const Node& features, std::string_view peer);
// TLS optional and never offered: fires net::TCP_DOWNGRADED (condition tls-not-offered).
void report_downgrade(ProtocolHost& host, std::string_view peer);
// Fires PCJ_SSLNEGOTIATE and sends <starttls/> (unless a handler replaced the connection).
void request_starttls(ProtocolHost& host);
// The peer's answer in the TLS namespace. <proceed/>: fires xs::TLS_PROCEED and starts TLS
// (returns true); <failure/>: returns false with the reason (starttls-refused).
bool proceed_with_tls(ProtocolHost& host, const Node& answer, std::string_view peer, Reason* why);
// TLS is up: fires PCJ_SSLSUCCESS and opens a new stream over it (RFC 6120 §5.4.3.3), unless a
// handler replaced the connection.
void restart_stream_over_tls(ProtocolHost& host);

} // namespace pcj::detail
