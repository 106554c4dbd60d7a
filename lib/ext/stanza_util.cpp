// Addressing helpers of the built-in extensions (see stanza_util.hpp).
#include "stanza_util.hpp"

#include <cstdlib>

#include "pcj/route.hpp"

namespace pcj::detail {

bool is_component(const Component& component) {
    const auto type = component.config().connection_type;
    return type == ConnectionType::JABBERD14_COMPONENT ||
           type == ConnectionType::JABBERD20_COMPONENT;
}

const Node* find_child(const Node& parent, std::string_view local_name, std::string_view ns) {
    for (const Node& child : parent.children()) {
        if (!child.is_text() && child.local_name() == local_name && child.ns() == ns) {
            return &child;
        }
    }
    return nullptr;
}

const Node& inner_stanza(const Node& stanza) {
    const Node* payload = route_payload(stanza);
    return payload != nullptr ? *payload : stanza;
}

std::string self_address(const Component& component) {
    if (component.config().connection_type == ConnectionType::JABBERD14_COMPONENT) {
        return component.config().hostname;
    }
    return component.jid();
}

bool addressed_to_self(const Component& component, const Node& stanza) {
    const std::string* to = stanza.find_attr("to");
    if (to == nullptr || to->empty()) {
        return true;
    }
    const std::string self = self_address(component);
    if (self.empty()) {
        return false;
    }
    if (is_component(component)) {
        return same_jid(*to, self);
    }
    return same_jid(*to, self) || same_jid(*to, bare_of(self));
}

Node outbound(const Component& component, Node stanza) {
    if (!is_component(component)) {
        return stanza;
    }
    const std::string self = self_address(component);
    if (!stanza.has_attr("from") && !self.empty()) {
        stanza.set_attr("from", self);
    }
    if (component.config().connection_type != ConnectionType::JABBERD20_COMPONENT) {
        return stanza;
    }
    // The router delivers by the domain of the route's 'to', and accepts only routes from a
    // domain this component bound.
    std::string to = domain_of(stanza.attr("to"));
    if (to.empty()) {
        to = component.config().hostname;
    }
    return wrap_route(std::move(stanza), self, std::move(to));
}

Node iq_reply(const Component& component, const Node& received, std::string_view type) {
    const Node& request = inner_stanza(received);
    Node iq("iq", request.ns());
    iq.set_attr("type", std::string(type));
    if (const std::string* id = request.find_attr("id")) {
        iq.set_attr("id", *id);
    }
    if (const std::string* from = request.find_attr("from")) {
        iq.set_attr("to", *from);
    }
    // A client's server stamps 'from' itself; a component must say which of its addresses
    // answers.
    if (is_component(component)) {
        const std::string* to = request.find_attr("to");
        iq.set_attr("from", to != nullptr && !to->empty() ? *to : self_address(component));
    }
    if (!is_route(received)) {
        return iq;
    }
    std::string route_from = received.attr("to");
    if (route_from.empty()) {
        route_from = self_address(component);
    }
    return wrap_route(std::move(iq), std::move(route_from), received.attr("from"));
}

Node& reply_iq(Node& reply) {
    Node* payload = route_payload(reply);
    return payload != nullptr ? *payload : reply;
}

Node iq_error(const Component& component, const Node& received, std::string_view error_type,
              std::string_view condition) {
    Node reply = iq_reply(component, received, "error");
    Node& iq = reply_iq(reply);
    const Node& request = inner_stanza(received);
    if (auto kids = request.elements(); !kids.empty()) {
        iq.add_child(*kids.front()); // the query, as RFC 6120 §8.3.1 lets an error carry it
    }
    Node& error = iq.add_child("error");
    error.set_attr("type", std::string(error_type));
    error.add_child(std::string(condition), std::string(stanzas_ns));
    return reply;
}

bool is_error_reply(const Node& reply) {
    if (is_route(reply) && reply.has_attr("error")) {
        return true;
    }
    return inner_stanza(reply).attr("type") == "error";
}

Reason error_reply_reason(const Node& reply, std::string op) {
    Reason r;
    r.op = std::move(op);
    if (is_route(reply) && reply.has_attr("error")) {
        const std::string code = reply.attr("error");
        r.code = std::atoi(code.c_str());
        r.condition = "remote-server-not-found";
        r.text = "the router bounced the route (error='" + code + "'): nobody serves '" +
                 reply.attr("to") + "'";
        return r;
    }
    const Node* error = inner_stanza(reply).child("error");
    if (error == nullptr) {
        r.condition = "undefined-condition";
        r.text = "an error reply without <error/>";
        return r;
    }
    r.code = std::atoi(error->attr("code").c_str());
    for (const Node* child : error->elements()) {
        if (child->local_name() == "text") {
            r.text = child->text();
        } else if (r.condition.empty()) {
            r.condition = std::string(child->local_name());
        }
    }
    if (r.condition.empty()) {
        r.condition = "undefined-condition";
    }
    return r;
}

} // namespace pcj::detail
