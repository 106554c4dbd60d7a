/// @file
/// Route envelopes of the jabberd2 component protocol: what a JABBERD20_COMPONENT sends and
/// receives once READY.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "pcj/export.hpp"
#include "pcj/node.hpp"

namespace pcj {

/// The namespace of the jabberd2 component protocol (its stream, `<bind/>` and `<route/>`).
inline constexpr std::string_view jabberd2_component_ns =
    "http://jabberd.jabberstudio.org/ns/component/1.0";

/// What a `<route/>` carries. The router delivers a route to the component bound to the domain of
/// `to`, and accepts one from a component only when the domain of `from` is bound to it.
struct PCJ_EXPORT Route {
    std::string from;  ///< the sender's address
    std::string to;    ///< the addressee
    std::string type;  ///< "" for unicast, or e.g. "broadcast"
    std::string error; ///< set when the router bounced it: "404" when nobody bound `to`
    Node stanza;       ///< the stanza inside (jabber:client), or an empty Node when there is none
};

/// `<route xmlns="…component/1.0" from="FROM" to="TO">STANZA</route>`. A stanza without a
/// namespace is put in jabber:client, as the session manager and other components expect.
PCJ_EXPORT Node wrap_route(Node stanza, std::string from, std::string to);

/// Whether the node is a `<route/>` of the jabberd2 component protocol.
PCJ_EXPORT bool is_route(const Node& node);

/// The envelope's addresses and its stanza; nullopt when the node is not a route.
PCJ_EXPORT std::optional<Route> unwrap_route(const Node& node);

/// The stanza a route carries (its first element child), or nullptr when the node is not a
/// route or carries none. return_to_sender matches replies on this stanza's id.
///@{
PCJ_EXPORT const Node* route_payload(const Node& node);
PCJ_EXPORT Node* route_payload(Node& node);
///@}

} // namespace pcj
