// SessionKeeper: keeps a component's Session (seeds/002) current from what passes on the
// connection, and fetches and maintains the roster (RFC 6121).
#pragma once

#include <cstdint>
#include <string>

#include "emitter.hpp"
#include "pcj/component.hpp"
#include "pcj/config.hpp"
#include "pcj/node.hpp"
#include "pcj/session.hpp"
#include "pending.hpp"

namespace pcj::detail {

class ComponentImpl;

// What the SessionKeeper needs of its component (implemented by ComponentImpl).
class SessionHost {
public:
    virtual const Config& config() const = 0;
    virtual State state() const = 0;
    virtual std::uint64_t connection_id() const = 0;
    virtual const std::string& jid() const = 0; // the address the server assigned
    virtual bool awaiting_reply(std::string_view id) const = 0;
    virtual void output(Node node) = 0; // Component::output()
    // Component::return_to_sender() with the default timeout.
    virtual void request(Node node, PendingRequest request) = 0;
    virtual Emitter& emitter() = 0;

protected:
    ~SessionHost() = default;
};

class SessionKeeper {
public:
    // `component` is what the public Session forwards send() and close() to.
    SessionKeeper(SessionHost& host, ComponentImpl& component);

    const Session& state() const { return session_; }
    Session& state() { return session_; }

    // -- hooks the core calls, on the loop thread ----------------------------------------
    void on_connect();                       // a new connection starts: reset
    void on_stream_open(const Node& header); // the peer's stream header
    void on_features(const Node& features);  // <stream:features/> while negotiating
    void on_stream_end();                    // the peer's </stream:stream>
    void on_authenticated();                 // credentials accepted (SASL, iq:auth, handshake)
    void on_bound(const std::string& jid);   // the address the server assigned
    void on_ready();                         // PCJ_READY is about to fire
    void on_outbound(const Node& stanza);    // a node is written
    bool on_inbound(const Node& stanza);     // true when consumed (a roster push)
    void on_closed();                        // the connection is gone

    // Component::request_roster(): asks now when READY, at READY while negotiating.
    void request_roster();

private:
    bool client() const;
    bool authenticated() const;
    void mark_authenticated();
    void send_roster_get();
    void on_roster_reply(std::uint64_t connection, const Event& e);
    void load_roster(const Node& result);
    void roster_failed(const Reason& why, const Node* reply);
    bool is_roster_push(const Node& stanza) const;
    bool from_own_account(const Node& stanza) const;
    void handle_push(const Node& push);
    void refuse(const Node& stanza, const char* type, const char* condition);
    void track_presence(const Node& presence);

    SessionHost& host_;
    Session session_;
    bool roster_at_ready_ = false;   // request_roster() before READY
    bool roster_in_flight_ = false;  // our own fetch awaits its reply
    bool server_roster_ver_ = false; // the server advertised roster versioning
    std::string app_roster_get_id_;  // a roster get the application wrote with output()
};

} // namespace pcj::detail
