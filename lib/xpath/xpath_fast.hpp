// The XPath fast path: a small subset of XPath 1.0 evaluated directly on pcj::Node.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pcj/node.hpp"
#include "xpath_index.hpp"

namespace pcj::detail::fast {

// libxml2 stays the engine of record (xpath.cpp): it compiles and checks every expression, and
// decides every expression outside this subset and every stanza plain_stanza() does not vouch
// for. Inside the subset the result must be libxml2's own — the same verdict and the same
// selected nodes in the same order — on the document xpath_engine.cpp builds from the stanza;
// test/unit/test_xpath_fast.cpp and fuzz/fuzz_xpath_fast.cpp compare the two.
//
// The subset, decided from the parsed expression (xpath_parse.hpp) when the filter is added:
//  - a location path, absolute or relative, of child steps with a name test ("body", "p:x",
//    "p:*", "*"; p bound with ns_prefix, never "xml"), optionally ending in an attribute step
//    with an unprefixed name or "*" ("@id", "@*"), without predicates on the attribute step;
//  - predicates, and a top-level boolean, made of "and", "or", not(B), a path (non-empty),
//    path = 'literal', path != 'literal' (either side), starts-with(path, 'literal') and
//    contains(path, 'literal').
// Not in it: "//" and every other axis, text() and node(), numbers (so no positional
// predicate), variables, unions, other functions. With child steps only, every selected node
// is reached by exactly one chain of steps, so a depth-first walk meets them in document order
// without duplicates, which is the order libxml2 hands them over in.

struct Bool;

struct Step {
    bool attribute = false;
    ElemTest test;    // a child step
    std::string name; // an attribute step: the exact name; empty for "@*"
    std::vector<Bool> preds;
};

struct Path {
    bool absolute = false;
    std::vector<Step> steps; // never empty
};

struct Bool {
    enum class Kind : unsigned char { and_, or_, not_, exists, eq, ne, starts_with, contains };
    Kind kind = Kind::exists;
    std::vector<Bool> kids; // and_, or_: two; not_: one
    Path path;              // the operand of every other kind
    std::string literal;    // eq, ne, starts_with, contains
};

struct Program {
    bool selects = false; // a path: fires with what it selects; otherwise a boolean
    Path path;
    Bool test;
};

// Nothing when the expression is outside the subset or names an unbound prefix.
std::optional<Program> compile(std::string_view xpath, const PrefixMap& prefixes);
// The same from the expression parsed already (xp::parse).
std::optional<Program> compile(const xp::Expr& parsed, const PrefixMap& prefixes);

// One selected node: an element of the stanza, or the value of one of its attributes.
struct Hit {
    const Node* element = nullptr;
    const std::string* value = nullptr;
};

// unsure: the evaluation outgrew its budget (kept far below the operation limit libxml2 is run
// with, xpath_engine.cpp), so libxml2 must decide; that limit could make libxml2 say "no".
enum class Verdict : unsigned char { no, yes, unsure };

// Only for a stanza plain_stanza() accepts. For a path, hits receives what it selects.
Verdict run(const Program& program, const Node& stanza, std::vector<Hit>& hits);

} // namespace pcj::detail::fast
