// The XPath filter compiler and the pre-filter index: arbitrary expressions against arbitrary
// stanzas. The index may only rule out filters libxml2 would not fire, so a FilterSet with
// indexing must fire exactly what one without it fires (libxml2 deciding every filter).
//
// Input: up to four expressions, one per line, then a NUL byte, then the stanza's XML.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "pcj/error.hpp"
#include "pcj/node.hpp"
#include "xpath.hpp"

namespace {

using pcj::detail::FilterSet;

// Expressions as long as the input allows (libFuzzer's -max_len, 8192 in scripts/fuzz.sh): deep
// nesting is refused by the compiler's own limits (test/unit/test_xpath_limits.cpp), so this
// target checks those limits too instead of staying under them.
constexpr std::size_t max_expression = 8192;

void prefixes(FilterSet& set) {
    set.ns_prefix("disco", "http://jabber.org/protocol/disco#info");
    set.ns_prefix("p", "urn:p");
    set.ns_prefix("client", "jabber:client");
}

std::vector<std::string> fire_all(const FilterSet& set, const pcj::Node& stanza) {
    std::vector<std::string> fired;
    set.evaluate(stanza, [&](std::string_view event, std::string_view xpath,
                             std::span<const pcj::Node> matches) {
        std::string line = std::string(event) + "|" + std::string(xpath) + "|";
        for (const auto& m : matches)
            line += m.to_string() + "|";
        fired.push_back(std::move(line));
    });
    return fired;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    const auto nul = all.find('\0');
    if (nul == std::string_view::npos)
        return 0;
    pcj::Node stanza;
    try {
        stanza = pcj::Node::parse(all.substr(nul + 1));
    } catch (const pcj::Error&) {
        return 0;
    }
    FilterSet indexed;
    indexed.set_index_above(0); // up to 4 expressions: the index must decide them all
    FilterSet plain;
    plain.set_indexing(false);
    plain.set_fast_path(false);
    prefixes(indexed);
    prefixes(plain);
    std::string_view exprs = all.substr(0, nul);
    for (int i = 0; i < 4 && !exprs.empty(); ++i) {
        const auto eol = exprs.find('\n');
        const std::string expr(exprs.substr(0, eol));
        exprs = eol == std::string_view::npos ? std::string_view{} : exprs.substr(eol + 1);
        if (expr.size() > max_expression)
            continue;
        bool a = true;
        bool b = true;
        try {
            indexed.add("e" + std::to_string(i), expr);
        } catch (const pcj::XPathError&) {
            a = false;
        }
        try {
            plain.add("e" + std::to_string(i), expr);
        } catch (const pcj::XPathError&) {
            b = false;
        }
        if (a != b)
            std::abort();
    }
    if (fire_all(indexed, stanza) != fire_all(plain, stanza))
        std::abort();
    return 0;
}
