// The XPath fast path against libxml2: expressions of the fast path's subset, drawn from the
// input, on stanzas drawn from it too (or parsed from it). Aborts when the fast path alone, or
// the index with the fast path, fires anything other than libxml2 alone — another filter,
// another node, another order — or when a generated expression is not in the subset.
//
// Input: a byte that splits what follows, bytes that steer the generator of expressions and
// bytes that steer the generator of the stanza (test/support/xpath_subset.hpp; one byte per
// choice, 0 once they run out), optionally followed by a NUL and a stanza's XML, used instead of
// the generated stanza when it parses. Each generator has its own bytes, so that a long
// expression does not leave the stanza empty.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "pcj/error.hpp"
#include "pcj/node.hpp"
#include "xpath.hpp"
#include "xpath_parse.hpp"
#include "xpath_subset.hpp"

namespace {

using pcj::detail::FilterSet;

struct Bytes {
    std::string_view data;
    unsigned pick(unsigned n) {
        if (n == 0 || data.empty())
            return 0;
        const auto b = static_cast<unsigned char>(data.front());
        data.remove_prefix(1);
        return b % n;
    }
};

std::vector<std::string> fire_all(const FilterSet& set, const pcj::Node& stanza) {
    std::vector<std::string> fired;
    set.evaluate(stanza, [&](std::string_view event, std::string_view xpath,
                             std::span<const pcj::Node> matches) {
        std::string line;
        line.reserve(event.size() + xpath.size() + 64);
        line.append(event).append("|").append(xpath).append("|");
        for (const auto& m : matches) {
            if (m.is_text())
                line.append("text:").append(m.text());
            else
                line.append(m.to_string());
            line += '|';
        }
        fired.push_back(std::move(line));
    });
    return fired;
}

// Removes the input's filters however the input ends (add() throws on expressions libxml2
// refuses).
struct Emptied {
    FilterSet& set;
    ~Emptied() { set.clear(); }
};

// pcj's parser leaves to libxml2, whatever its shape, an expression with more than 256
// operators or nested deeper than 64 levels (xpath_parse.cpp): only the others must be in the
// subset. The generator writes "and" and "or" after a space and every comparison with a '=',
// so the brackets, spaces and '=' of the text over-estimate both bounds, and only an expression
// near them needs the parser's own word (which would otherwise cost as much as the rest of the
// input).
bool within_parser_bounds(std::string_view expr) {
    std::size_t brackets = 0;
    std::size_t operators = 0;
    for (const char c : expr) {
        brackets += c == '[' || c == '(' ? 1 : 0;
        operators += c == '=' || c == ' ' ? 1 : 0;
    }
    if (brackets < 60 && operators < 250)
        return true;
    return pcj::detail::xp::parse(expr).has_value();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    const auto nul = all.find('\0');
    std::string_view steer = all.substr(0, nul);
    const unsigned split = steer.empty() ? 0 : static_cast<unsigned char>(steer.front());
    steer.remove_prefix(steer.empty() ? 0 : 1);
    const std::size_t cut = steer.size() * split / 256;
    // At most this many choices for each generator: more only makes longer expressions and
    // bigger stanzas of the same shapes (the `xpath` target covers long expressions), and kept
    // this target under 1,000 executions per second once the corpus held such inputs.
    constexpr std::size_t max_choices = 512;
    Bytes bytes{steer.substr(0, cut).substr(0, max_choices)};
    Bytes stanza_bytes{steer.substr(cut).substr(0, max_choices)};
    pcj::test::SubsetGenerator<Bytes> gen(bytes);
    pcj::test::SubsetGenerator<Bytes> stanza_gen(stanza_bytes);

    // One set, evaluated three ways: what add() builds (the libxml2 compilation, the index's
    // plan, the fast program) does not depend on the switches, which only choose the evaluator.
    // The set itself serves every input: its XPath context and bound prefixes are the same for
    // all, and making them anew cost a tenth of an input's time. Every input starts from an
    // empty set (the `Emptied` guard below), so an input's outcome depends on it alone.
    static FilterSet& set = *[] {
        auto* s = new FilterSet;
        for (const auto& [prefix, uri] : pcj::test::kSubsetPrefixes)
            s->ns_prefix(std::string(prefix), std::string(uri));
        s->set_index_above(0); // with indexing on, the index's look-up decides even one filter
        return s;
    }();
    const int count = 1 + static_cast<int>(bytes.pick(4));
    const Emptied emptied{set};
    if (!set.empty())
        std::abort(); // the previous input left a filter behind
    set.set_indexing(true);
    set.set_fast_path(true);
    std::size_t in_subset = 0;
    for (int i = 0; i < count; ++i) {
        const std::string expr = gen.expression();
        try {
            set.add("e" + std::to_string(i), expr);
            in_subset += within_parser_bounds(expr) ? 1 : 0;
        } catch (const pcj::XPathError&) {
        }
    }
    if (set.fast_count() != in_subset)
        std::abort(); // a generated expression fell outside the subset

    pcj::Node stanza;
    bool parsed = false;
    if (nul != std::string_view::npos) {
        try {
            stanza = pcj::Node::parse(all.substr(nul + 1));
            parsed = true;
        } catch (const pcj::Error&) {
        }
    }
    if (!parsed)
        stanza = stanza_gen.stanza();
    set.set_indexing(false);
    set.set_fast_path(false);
    const std::vector<std::string> want = fire_all(set, stanza); // libxml2 alone
    set.set_fast_path(true);
    if (fire_all(set, stanza) != want) // the fast path alone
        std::abort();
    set.set_indexing(true);
    if (fire_all(set, stanza) != want) // the index and the fast path
        std::abort();
    return 0;
}
