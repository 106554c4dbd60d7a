// What a FilterSet fired on one stanza, recorded for the XPath tests to compare.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pcj/node.hpp"
#include "xpath.hpp"

namespace pcj::test {

// One fire: the filter's event, its expression and the nodes it selected.
struct Fired {
    std::string event;
    std::string xpath;
    std::vector<Node> matches;
    bool operator==(const Fired&) const = default;
};

// Evaluates every filter of `filters` on `stanza` and records each fire, in order.
inline std::vector<Fired> run(const detail::FilterSet& filters, const Node& stanza) {
    std::vector<Fired> fired;
    filters.evaluate(stanza, [&](std::string_view event, std::string_view xpath,
                                 std::span<const Node> matches) {
        fired.push_back({std::string(event), std::string(xpath), {matches.begin(), matches.end()}});
    });
    return fired;
}

} // namespace pcj::test
