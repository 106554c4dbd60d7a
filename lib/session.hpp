// SessionKeeper: keeps a component's Session (seeds/002) current from what passes on the
// connection, and fetches and maintains the roster (RFC 6121).
#pragma once

#include "pcj/node.hpp"
#include "pcj/session.hpp"

namespace pcj::detail {

class ComponentImpl;

class SessionKeeper {
public:
    explicit SessionKeeper(ComponentImpl& impl);

    const Session& state() const { return session_; }
    Session& state() { return session_; }

    // -- hooks the core calls, on the loop thread ----------------------------------------
    void on_connect();                       // a new connection starts: reset
    void on_stream_open(const Node& header); // the peer's stream header
    void on_authenticated();                 // credentials accepted (SASL, iq:auth, handshake)
    void on_bound(const std::string& jid);   // the address the server assigned
    void on_ready();                         // PCJ_READY is about to fire
    void on_outbound(const Node& stanza);    // a stanza is written (after READY)
    bool on_inbound(const Node& stanza);     // true when consumed (a roster push)
    void on_closed();                        // the connection is gone

private:
    ComponentImpl& impl_;
    Session session_;
};

} // namespace pcj::detail
