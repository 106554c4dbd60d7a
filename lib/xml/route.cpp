// jabberd2 route envelopes: wrapping a stanza for the router and unwrapping what it delivers.
#include "pcj/route.hpp"

namespace pcj {

namespace {
constexpr std::string_view client_ns = "jabber:client";
}

Node wrap_route(Node stanza, std::string from, std::string to) {
    if (stanza.ns().empty()) {
        stanza.set_ns(std::string(client_ns));
    }
    Node route("route", std::string(jabberd2_component_ns));
    route.set_attr("from", std::move(from));
    route.set_attr("to", std::move(to));
    route.add_child(std::move(stanza));
    return route;
}

bool is_route(const Node& node) {
    return !node.is_text() && node.local_name() == "route" && node.ns() == jabberd2_component_ns;
}

std::optional<Route> unwrap_route(const Node& node) {
    if (!is_route(node)) {
        return std::nullopt;
    }
    Route r;
    r.from = node.attr("from");
    r.to = node.attr("to");
    r.type = node.attr("type");
    r.error = node.attr("error");
    if (const Node* payload = route_payload(node)) {
        r.stanza = *payload;
    }
    return r;
}

const Node* route_payload(const Node& node) {
    if (!is_route(node)) {
        return nullptr;
    }
    for (const Node& child : node.children()) {
        if (!child.is_text()) {
            return &child;
        }
    }
    return nullptr;
}

Node* route_payload(Node& node) {
    if (!is_route(node)) {
        return nullptr;
    }
    for (Node& child : node.children()) {
        if (!child.is_text()) {
            return &child;
        }
    }
    return nullptr;
}

} // namespace pcj
