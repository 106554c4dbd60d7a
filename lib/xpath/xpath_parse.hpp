// XPath 1.0 expressions parsed into a small syntax tree, for FilterSet's static analysis only.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pcj::detail::xp {

// The tree serves the pre-filter index (xpath_index.hpp): libxml2 still compiles and evaluates
// every expression. parse() follows the XPath 1.0 grammar (§3) and its token rules (§3.7);
// whatever it does not understand makes it return nothing, and the filter is then evaluated by
// libxml2 on every stanza, so a gap here costs speed, never a match.

enum class Axis { child, attribute, self, descendant_or_self, parent, other };

struct NodeTest {
    enum class Kind { name, any, ns_any, node, text, other_type };
    Kind kind = Kind::name;
    std::string prefix; // name (may be empty) and ns_any
    std::string local;  // name
};

struct Expr;

struct Step {
    Axis axis = Axis::child;
    NodeTest test;
    std::vector<Expr> preds;
};

struct Expr {
    enum class Kind {
        or_,
        and_,
        eq,
        ne,
        relational,
        arith,
        negate,
        union_,
        path,
        filter,
        literal,
        number,
        function,
        variable
    };
    Kind kind = Kind::literal;
    std::string text;        // a literal's value, a function's name
    std::vector<Expr> args;  // operands, union members, function arguments, a filter's primary
    std::vector<Expr> preds; // a filter expression's predicates
    bool absolute = false;   // a path starting at the document node
    std::vector<Step> steps; // a path's steps; for a filter, the steps after the primary
};

std::optional<Expr> parse(std::string_view xpath);

struct Token;
// The same from the tokens tokenize() made and accepted, for a caller that reads them too
// (FilterSet::add()). The tree owns its strings: the tokens and the text may go once it is made.
std::optional<Expr> parse(std::vector<Token> tokens);

} // namespace pcj::detail::xp
