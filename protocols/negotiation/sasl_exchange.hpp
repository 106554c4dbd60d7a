// SaslExchange: RFC 6120 §6's <auth/>, <challenge/>, <response/>, <success/> and <failure/>,
// shared by the XMPP client and the jabberd2 router component.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "protocol.hpp"
#include "sasl.hpp"

namespace pcj::detail {

inline constexpr std::string_view ns_sasl = "urn:ietf:params:xml:ns:xmpp-sasl";

// One authentication. start() picks the mechanism (pcj's preference among those offered),
// fires PCJ_AUTHNEGOTIATE and sends <auth/>; handle() takes each SASL element the peer sends.
// The caller owns the state machine around it: on `succeeded` it fires PCJ_AUTHSUCCESS and
// restarts the stream, on `failed` it fails with PCJ_AUTHFAIL and the reason.
//
// It fires the stream events (doc/origins.md) xs::SASL_CHALLENGE and xs::SASL_SUCCESS (the element,
// and a SaslStep with the mechanism and the element's base64 text) as each arrives,
// xs::SASL_FAILURE (the element, the mechanism and the reason) for the peer's <failure/>, and
// xs::SASL_RESPONSE for each <response/> sent — with the mechanism and the base64 length only, and
// no node: a response may carry the password (PLAIN's is one).
//
// SCRAM's PBKDF2 runs off the loop thread (ProtocolHost::run_off_loop) after the server-first
// challenge; the response follows when it is done, and if that step fails the exchange itself
// fails the connection with PCJ_AUTHFAIL. A <challenge/> or <success/> arriving meanwhile is a
// protocol error (unexpected-challenge).
class SaslExchange {
public:
    enum class Outcome { pending, succeeded, failed };

    // peer names the other side in reasons ("server", "router").
    SaslExchange(ProtocolHost& host, std::string peer);

    // `mechanisms` is the <mechanisms/> feature; `binding` the channel binding the peer can check
    // (empty type when none). Returns failed (nothing sent) when no mechanism is acceptable, and
    // pending otherwise — also when a handler of PCJ_AUTHNEGOTIATE replaced the connection.
    Outcome start(const Node& mechanisms, const std::pair<std::string, std::string>& binding,
                  Reason* why);
    // A SASL element from the peer.
    Outcome handle(const Node& node, Reason* why);

private:
    Outcome answer(const std::string& challenge, Reason* why);
    void report(std::string_view event, const Node* node, std::size_t length,
                const Reason* reason = nullptr);

    ProtocolHost& host_;
    std::string peer_;
    std::string mechanism_;
    std::unique_ptr<SaslClient> client_;
    bool busy_ = false; // hashing off the loop thread; the response is not sent yet
    // Expires with this object, so that the end of work off the loop finds it gone.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace pcj::detail
