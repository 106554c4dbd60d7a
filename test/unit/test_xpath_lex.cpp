// The XPath tokenizer shared by the filter set, the parser and the planner (XPath 1.0 §3.7).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "pcj/error.hpp"
#include "xpath.hpp"
#include "xpath_lex.hpp"
#include "xpath_parse.hpp"

using pcj::detail::FilterSet;
using pcj::detail::xp::Token;
using pcj::detail::xp::tokenize;

namespace {

// Each token as kind:text (or kind:prefix:local for names), space-separated.
std::string show(const std::string& xpath) {
    std::vector<Token> tokens;
    if (!tokenize(xpath, tokens)) {
        return "(refused)";
    }
    std::string out;
    for (const Token& t : tokens) {
        static const char* const kinds[] = {"end",  "lit",  "num",  "name", "op",
                                            "func", "type", "axis", "var"};
        out += out.empty() ? "" : " ";
        out += kinds[static_cast<int>(t.t)];
        if (t.t == Token::T::name || t.t == Token::T::variable || t.t == Token::T::function) {
            out += ":" + std::string(t.prefix) + ":" + std::string(t.local);
        } else if (t.t != Token::T::end) {
            out += ":" + std::string(t.text);
        }
    }
    return out;
}

} // namespace

TEST_CASE("xpath lexer: names after an operand are operators, '*' multiplies only there",
          "[xpath][lexer]") {
    CHECK(show("a and b or c") == "name::a op:and name::b op:or name::c end");
    CHECK(show("* * *") == "name::* op:* name::* end");
    CHECK(show("3 div 4 mod 2") == "num:3 op:div num:4 op:mod num:2 end");
    CHECK(show("and") == "name::and end"); // nothing before it: a name test
    CHECK(show("a mul b") == "(refused)"); // not one of XPath's operator names
}

TEST_CASE("xpath lexer: axes, node types, functions, variables and prefixed names",
          "[xpath][lexer]") {
    CHECK(show("child::p:x/@y") == "axis:child name:p:x op:/ op:@ name::y end");
    CHECK(show("text() | node ()") == "type:text op:( op:) op:| type:node op:( op:) end");
    CHECK(show("p:f($q:v, 'a:b')") == "func:p:f op:( var:q:v op:, lit:a:b op:) end");
    CHECK(show("p:*[.. and .5]") == "name:p:* op:[ op:.. op:and num:.5 op:] end");
    CHECK(show("//a[@b != \"c\"]") == "op:// name::a op:[ op:@ name::b op:!= lit:c op:] end");
}

TEST_CASE("xpath lexer: what XPath 1.0 does not allow is refused", "[xpath][lexer]") {
    for (const char* bad : {"'open", "a ! b", "#", "$", "p:", "a{b}"}) {
        INFO(bad);
        CHECK(show(bad) == "(refused)");
    }
}

TEST_CASE("xpath: a prefix in a function or variable name must be bound too",
          "[xpath][errors][lexer]") {
    FilterSet filters;
    CHECK_THROWS_WITH(filters.add("f", "zz:f()"), Catch::Contains("zz"));
    CHECK_THROWS_WITH(filters.add("v", "$zz:v"), Catch::Contains("zz"));
    // Bound, the function is still not one libxml2 knows.
    filters.ns_prefix("zz", "urn:zz");
    CHECK_THROWS_WITH(filters.add("f", "zz:f()"), Catch::Contains("Unregistered function"));
    CHECK(filters.empty());
}

namespace {

// The parsed tree as nested kind(args…), paths as their steps' local names: enough to see how
// the operators group.
std::string shape(const pcj::detail::xp::Expr& e) {
    using K = pcj::detail::xp::Expr::Kind;
    static const char* const names[] = {"or",    "and",  "eq",     "ne",  "rel", "arith", "neg",
                                        "union", "path", "filter", "lit", "num", "fn",    "var"};
    if (e.kind == K::path) {
        std::string out;
        for (const auto& s : e.steps)
            out += (out.empty() ? "" : "/") + s.test.local;
        return out;
    }
    if (e.kind == K::literal || e.kind == K::number)
        return e.text;
    std::string out = std::string(names[static_cast<int>(e.kind)]) + "(";
    for (std::size_t i = 0; i < e.args.size(); ++i)
        out += (i == 0 ? "" : ",") + shape(e.args[i]);
    return out + ")";
}

std::string parsed(const std::string& xpath) {
    const auto e = pcj::detail::xp::parse(xpath);
    return e ? shape(*e) : "(refused)";
}

} // namespace

TEST_CASE("xpath parser: operators group by XPath 1.0's precedence, each left-associative",
          "[xpath][parser]") {
    CHECK(parsed("a or b and c") == "or(a,and(b,c))");
    CHECK(parsed("a and b or c") == "or(and(a,b),c)");
    CHECK(parsed("a or b or c") == "or(or(a,b),c)");
    CHECK(parsed("a = 'x' and b != 'y'") == "and(eq(a,x),ne(b,y))");
    CHECK(parsed("a = b < c") == "eq(a,rel(b,c))");
    CHECK(parsed("a < b = c") == "eq(rel(a,b),c)");
    CHECK(parsed("1 - 2 - 3") == "arith(arith(1,2),3)");
    CHECK(parsed("1 + 2 * 3") == "arith(1,arith(2,3))");
    CHECK(parsed("1 * 2 + 3 div 4 mod 5") == "arith(arith(1,2),arith(arith(3,4),5))");
    CHECK(parsed("- a = b") == "eq(neg(a),b)");
    CHECK(parsed("a | b = c") == "eq(union(a,b),c)");
    CHECK(parsed("(a or b) and c") == "and(or(a,b),c)");
    CHECK(parsed("x[a or b and c]/y") == "x/y");
    CHECK(parsed("a or") == "(refused)");
    CHECK(parsed("a and and b") == "(refused)");
    CHECK(parsed("a = = b") == "(refused)");
}
