// jabberd2's <route/> envelope: any element given to unwrap_route, and what it unwraps
// wrapped again must unwrap to the same addresses and stanza.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pcj/error.hpp"
#include "pcj/route.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    pcj::Node node;
    try {
        node = pcj::Node::parse(std::string_view(reinterpret_cast<const char*>(data), size));
    } catch (const pcj::Error&) {
        return 0;
    }
    const auto route = pcj::unwrap_route(node);
    if (route.has_value() != pcj::is_route(node))
        std::abort();
    const pcj::Node* payload = pcj::route_payload(node);
    if (!route)
        return payload == nullptr ? 0 : (std::abort(), 0);
    if (route->stanza.empty())
        return 0;
    const pcj::Node again = pcj::wrap_route(route->stanza, route->from, route->to);
    const auto back = pcj::unwrap_route(pcj::Node::parse(again.to_string()));
    if (!back || back->from != route->from || back->to != route->to)
        std::abort();
    if (back->stanza.to_string() != route->stanza.to_string())
        std::abort();
    return 0;
}
