// The XPath 1.0 tokenizer (§3.7) that the filter set, the parser and the planner share.
#pragma once

#include <string_view>
#include <vector>

namespace pcj::detail::xp {

// One token; the views point into the expression's text.
struct Token {
    enum class T { end, literal, number, name, op, function, node_type, axis, variable };
    T t = T::end;
    std::string_view text;   // op: the symbol or operator name; literal: the value;
                             // function, node_type, axis: the name
    std::string_view prefix; // name, function, variable: the QName's prefix (may be empty)
    std::string_view local;  // name: "*" for a wildcard; function, variable: the local name
};

// Splits `xpath` into tokens as XPath 1.0 §3.7 prescribes: after an operand, '*' multiplies
// and a name is an operator name (and, or, div, mod); a name before "(" is a node type or a
// function; a name before "::" is an axis. Returns false at the first thing XPath 1.0 does not
// allow, with the tokens before it in `out`; on success `out` ends with a T::end token.
bool tokenize(std::string_view xpath, std::vector<Token>& out);

} // namespace pcj::detail::xp
