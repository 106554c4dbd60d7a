/// @file
/// Session: the state of a component's session, as Prosody's session structure names it
/// (doc/session.md), readable at any time.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "pcj/events.hpp"
#include "pcj/export.hpp"
#include "pcj/node.hpp"
#include "pcj/payload.hpp"

namespace pcj {

namespace detail {
class ComponentImpl;
class SessionKeeper;
} // namespace detail

/// The state of a component's session, kept current by pcj from what passes on the stream and
/// named as in Prosody's session structure (doc/session.md). Get it from Component::session().
class PCJ_EXPORT Session {
public:
    /// "c2s_unauthed" until authenticated, then "c2s" (XMPP, LEGACY); "component_unauthed" then
    /// "component" (JABBERD14_COMPONENT, JABBERD20_COMPONENT).
    std::string_view type() const { return type_; }
    /// Clients: the account's local part once authenticated (the bound JID's once bound).
    /// Components: always "" (their address is a bare domain). See doc/session.md.
    const std::string& username() const { return username_; }
    /// The peer header's 'from' (else config().hostname) once the stream opened; then the
    /// bound JID's domain (a component's own domain).
    const std::string& host() const { return host_; }
    /// The bound resource; "" before bind, and always "" for components.
    const std::string& resource() const { return resource_; }
    /// The bound JID (Component::jid() while connected); a component's domain. "" before bind
    /// and once the connection is gone.
    const std::string& full_jid() const { return full_jid_; }
    /// Of the last undirected available presence sent; 0 without one.
    int priority() const { return priority_; }
    /// The last undirected presence sent without a type; reset by an unavailable one.
    const std::optional<Node>& presence() const { return presence_; }
    /// True once the roster was requested: the server then pushes roster changes.
    bool interested() const { return interested_; }
    /// The roster by bare JID, kept current by pushes.
    const std::map<std::string, RosterItem>& roster() const { return roster_; }
    /// The roster version of the last roster or push (RFC 6121 §2.6), "" without one.
    const std::string& roster_version() const { return roster_version_; }
    /// The stream is open (Prosody's `notopen` is its negation).
    bool open() const { return open_; }

    /// Prosody's predicates: bound; bound and available (a presence sent); bound and
    /// interested in the roster.
    ///@{
    bool connected_resource() const { return !full_jid_.empty(); }
    bool available_resource() const { return connected_resource() && presence_.has_value(); }
    bool interested_resource() const { return connected_resource() && interested_; }
    ///@}

    /// Component::output(node).
    void send(Node node);
    /// Component::shutdown(); the second form with the reason carried by PCJ_SHUTDOWN_START.
    ///@{
    void close();
    void close(Reason reason);
    ///@}

private:
    friend class detail::SessionKeeper;
    explicit Session(detail::ComponentImpl& impl) : impl_(impl) {}

    detail::ComponentImpl& impl_;
    std::string type_ = "c2s_unauthed";
    std::string username_;
    std::string host_;
    std::string resource_;
    std::string full_jid_;
    int priority_ = 0;
    std::optional<Node> presence_;
    bool interested_ = false;
    std::map<std::string, RosterItem> roster_;
    std::string roster_version_;
    bool open_ = false;
};

} // namespace pcj
