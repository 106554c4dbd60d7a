// Addressing helpers the built-in extensions share: who the component is, how a request leaves
// it and how a reply goes back (from= for components, <route/> envelopes for jabberd2).
#pragma once

#include <string>
#include <string_view>

#include "jid.hpp"
#include "pcj/component.hpp"
#include "pcj/node.hpp"

namespace pcj::detail {

inline constexpr std::string_view stanzas_ns = "urn:ietf:params:xml:ns:xmpp-stanzas";

bool is_component(const Component& component);
// The first element child with this local name (any prefix) in this namespace.
const Node* find_child(const Node& parent, std::string_view local_name, std::string_view ns);

// The stanza itself, or the one a jabberd2 <route/> carries.
const Node& inner_stanza(const Node& stanza);

// The address the component answers as: its domain (JABBERD14_COMPONENT: the configured
// hostname; JABBERD20_COMPONENT: the bound domain) or, for a client, its full JID.
std::string self_address(const Component& component);
// Whether `stanza` (not a route: the stanza inside) is addressed to the component itself: no
// 'to' at all, its domain for a component, its full or bare JID for a client.
bool addressed_to_self(const Component& component, const Node& stanza);

// Makes a request ready to leave: a component's gets from= its own address, and for jabberd2
// it goes in a route from the bound domain to the domain of its 'to'.
Node outbound(const Component& component, Node stanza);

// The result (or error) of an inbound iq `received` (a route for jabberd2): to= its sender,
// from= the address it was sent to, the same id, and for jabberd2 wrapped in a route back.
Node iq_reply(const Component& component, const Node& received, std::string_view type);
// Puts `reply` (from iq_reply) as is, or in its route, and adds children to the iq inside.
Node& reply_iq(Node& reply);
// An error reply with the stanza's first child copied and
// <error type='TYPE'><CONDITION xmlns='…stanzas'/></error>.
Node iq_error(const Component& component, const Node& received, std::string_view error_type,
              std::string_view condition);

// Whether a reply (a route for jabberd2) is an error: type='error' or a bounced route.
bool is_error_reply(const Node& reply);
// The reason an error reply gives: the condition element inside <error/> (or, for a route the
// router bounced, remote-server-not-found with the route's code), its legacy code and <text/>.
Reason error_reply_reason(const Node& reply, std::string op);

} // namespace pcj::detail
