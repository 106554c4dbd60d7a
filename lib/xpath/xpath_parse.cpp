// XPath 1.0 parser producing the tree of xpath_parse.hpp, over xpath_lex: recursive descent,
// with precedence climbing for the binary operators.
#include "xpath_parse.hpp"

#include <cstddef>
#include <utility>

#include "xpath_lex.hpp"

namespace pcj::detail::xp {

namespace {

// Deeper nesting is legal XPath but no filter needs it; refusing keeps the recursion bounded.
constexpr int kMaxNesting = 64;
// A chain of binary operators ("a or b or c …") is parsed in a loop but builds a tree one level
// deeper per operator, and everything that walks the tree (the planner, the destructor)
// recurses on it: 4,000 "or" terms overflowed the stack. Beyond this many operators in one
// expression the parse gives up, and the filter goes to libxml2 on every stanza.
constexpr int kMaxOperators = 256;

class Parser {
public:
    explicit Parser(std::vector<Token> toks) : toks_(std::move(toks)) {}

    std::optional<Expr> run() {
        Expr e = or_expr();
        if (!ok_ || peek().t != Token::T::end)
            return std::nullopt;
        return e;
    }

private:
    std::vector<Token> toks_;
    std::size_t pos_ = 0;
    int depth_ = 0;
    int operators_ = 0;
    bool ok_ = true;

    const Token& peek() const { return toks_[pos_]; }
    bool is_op(std::string_view s) const { return peek().t == Token::T::op && peek().text == s; }
    bool take(std::string_view s) {
        if (!is_op(s))
            return false;
        ++pos_;
        return true;
    }
    void expect(std::string_view s) {
        if (!take(s))
            ok_ = false;
    }
    Expr fail() {
        ok_ = false;
        return Expr{};
    }

    static Expr binary(Expr::Kind k, Expr a, Expr b) {
        Expr e;
        e.kind = k;
        e.args.reserve(2);
        e.args.push_back(std::move(a));
        e.args.push_back(std::move(b));
        return e;
    }

    // The binary operators of §3.4–3.5 and their precedence, loosest first (0: not one).
    int binary_precedence(Expr::Kind& kind) const {
        const Token& t = peek();
        if (t.t != Token::T::op)
            return 0;
        const std::string_view s = t.text;
        switch (s.size()) {
        case 1:
            switch (s[0]) {
            case '=':
                kind = Expr::Kind::eq;
                return 3;
            case '<':
            case '>':
                kind = Expr::Kind::relational;
                return 4;
            case '+':
            case '-':
                kind = Expr::Kind::arith;
                return 5;
            case '*':
                kind = Expr::Kind::arith;
                return 6;
            default:
                return 0;
            }
        case 2:
            if (s == "or") {
                kind = Expr::Kind::or_;
                return 1;
            }
            if (s == "!=") {
                kind = Expr::Kind::ne;
                return 3;
            }
            if (s == "<=" || s == ">=") {
                kind = Expr::Kind::relational;
                return 4;
            }
            return 0;
        case 3:
            if (s == "and") {
                kind = Expr::Kind::and_;
                return 2;
            }
            if (s == "div" || s == "mod") {
                kind = Expr::Kind::arith;
                return 6;
            }
            return 0;
        default:
            return 0;
        }
    }

    // OrExpr down to MultiplicativeExpr by precedence climbing: every operator left-associative,
    // the same tree as one function per grammar level, without passing each operand through six
    // of them.
    Expr binary_expr(int min_precedence) {
        Expr e = unary_expr();
        while (ok_) {
            Expr::Kind kind{};
            const int precedence = binary_precedence(kind);
            if (precedence == 0 || precedence < min_precedence)
                break;
            if (++operators_ > kMaxOperators)
                return fail();
            ++pos_;
            Expr rhs = binary_expr(precedence + 1);
            e = binary(kind, std::move(e), std::move(rhs));
        }
        return e;
    }

    Expr or_expr() {
        if (++depth_ > kMaxNesting)
            return fail();
        Expr e = binary_expr(1);
        --depth_;
        return e;
    }
    Expr unary_expr() {
        if (!take("-"))
            return union_expr();
        if (++depth_ > kMaxNesting)
            return fail();
        Expr e;
        e.kind = Expr::Kind::negate;
        e.args.push_back(unary_expr());
        --depth_;
        return e;
    }
    Expr union_expr() {
        Expr e = path_expr();
        if (!is_op("|"))
            return e;
        Expr u;
        u.kind = Expr::Kind::union_;
        u.args.push_back(std::move(e));
        while (ok_ && take("|"))
            u.args.push_back(path_expr());
        return u;
    }

    bool starts_step() const {
        const Token& t = peek();
        return t.t == Token::T::name || t.t == Token::T::axis || t.t == Token::T::node_type ||
               is_op("@") || is_op(".") || is_op("..");
    }

    Expr path_expr() {
        Expr e;
        e.kind = Expr::Kind::path;
        if (is_op("/") || is_op("//")) {
            e.absolute = true;
            if (take("/")) {
                if (starts_step())
                    relative_path(e.steps);
                return e;
            }
            ++pos_;
            e.steps.push_back(descendant_step());
            relative_path(e.steps);
            return e;
        }
        if (starts_step()) {
            relative_path(e.steps);
            return e;
        }
        Expr first = primary();
        if (!(ok_ && is_op("[")) && !is_op("/") && !is_op("//"))
            return first; // a primary alone, the usual case
        Expr f;
        f.kind = Expr::Kind::filter;
        f.args.push_back(std::move(first));
        while (ok_ && is_op("["))
            f.preds.push_back(predicate());
        if (is_op("/") || is_op("//")) {
            if (take("//"))
                f.steps.push_back(descendant_step());
            else
                ++pos_;
            relative_path(f.steps);
        }
        return f;
    }

    static Step descendant_step() {
        Step s;
        s.axis = Axis::descendant_or_self;
        s.test.kind = NodeTest::Kind::node;
        return s;
    }

    void relative_path(std::vector<Step>& steps) {
        // The tree lives only while the filter is planned and compiled: room for the few steps
        // of a usual path at once costs nothing that lasts.
        steps.reserve(steps.size() + 4);
        steps.push_back(step());
        while (ok_) {
            if (take("//"))
                steps.push_back(descendant_step());
            else if (!take("/"))
                break;
            steps.push_back(step());
        }
    }

    Expr predicate() {
        expect("[");
        Expr e = or_expr();
        expect("]");
        return e;
    }

    Step step() {
        Step s;
        if (take(".") || take("..")) {
            s.axis = toks_[pos_ - 1].text == "." ? Axis::self : Axis::parent;
            s.test.kind = NodeTest::Kind::node;
            return s;
        }
        if (take("@")) {
            s.axis = Axis::attribute;
        } else if (peek().t == Token::T::axis) {
            const std::string_view a = peek().text;
            s.axis = a == "child"                ? Axis::child
                     : a == "attribute"          ? Axis::attribute
                     : a == "self"               ? Axis::self
                     : a == "descendant-or-self" ? Axis::descendant_or_self
                     : a == "parent"             ? Axis::parent
                                                 : Axis::other;
            ++pos_;
        }
        node_test(s.test);
        while (ok_ && is_op("["))
            s.preds.push_back(predicate());
        return s;
    }

    void node_test(NodeTest& test) {
        const Token t = peek();
        if (t.t == Token::T::name) {
            ++pos_;
            test.prefix = std::string(t.prefix);
            if (t.local == "*") {
                test.kind = t.prefix.empty() ? NodeTest::Kind::any : NodeTest::Kind::ns_any;
            } else {
                test.kind = NodeTest::Kind::name;
                test.local = std::string(t.local);
            }
            return;
        }
        if (t.t != Token::T::node_type) {
            ok_ = false;
            return;
        }
        ++pos_;
        test.kind = t.text == "node"   ? NodeTest::Kind::node
                    : t.text == "text" ? NodeTest::Kind::text
                                       : NodeTest::Kind::other_type;
        expect("(");
        if (t.text == "processing-instruction" && peek().t == Token::T::literal)
            ++pos_;
        expect(")");
    }

    Expr primary() {
        const Token t = peek();
        Expr e;
        switch (t.t) {
        case Token::T::literal:
        case Token::T::number:
            ++pos_;
            e.kind = t.t == Token::T::literal ? Expr::Kind::literal : Expr::Kind::number;
            e.text = std::string(t.text);
            return e;
        case Token::T::variable:
            ++pos_;
            e.kind = Expr::Kind::variable;
            return e;
        case Token::T::function:
            ++pos_;
            e.kind = Expr::Kind::function;
            e.text = t.prefix.empty() ? std::string(t.text)
                                      : std::string(t.prefix) + ":" + std::string(t.local);
            expect("(");
            if (!is_op(")")) {
                e.args.reserve(2); // most functions filters call take one or two
                e.args.push_back(or_expr());
                while (ok_ && take(","))
                    e.args.push_back(or_expr());
            }
            expect(")");
            return e;
        default:
            break;
        }
        if (!take("("))
            return fail();
        e = or_expr();
        expect(")");
        return e;
    }
};

} // namespace

std::optional<Expr> parse(std::string_view xpath) {
    std::vector<Token> toks;
    if (!tokenize(xpath, toks))
        return std::nullopt;
    return parse(std::move(toks));
}

std::optional<Expr> parse(std::vector<Token> tokens) {
    return Parser(std::move(tokens)).run();
}

} // namespace pcj::detail::xp
