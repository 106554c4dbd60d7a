// XPath 1.0 recursive-descent parser producing the tree of xpath_parse.hpp, over xpath_lex.
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
        e.args.push_back(std::move(a));
        e.args.push_back(std::move(b));
        return e;
    }

    template <class Next, class Kinds> Expr left_assoc(Next next, Kinds kind_of) {
        Expr e = (this->*next)();
        while (ok_) {
            std::optional<Expr::Kind> k = kind_of(*this);
            if (!k)
                break;
            if (++operators_ > kMaxOperators)
                return fail();
            ++pos_;
            e = binary(*k, std::move(e), (this->*next)());
        }
        return e;
    }

    Expr or_expr() {
        if (++depth_ > kMaxNesting)
            return fail();
        Expr e = left_assoc(&Parser::and_expr, [](const Parser& p) {
            return p.is_op("or") ? std::optional(Expr::Kind::or_) : std::nullopt;
        });
        --depth_;
        return e;
    }
    Expr and_expr() {
        return left_assoc(&Parser::eq_expr, [](const Parser& p) {
            return p.is_op("and") ? std::optional(Expr::Kind::and_) : std::nullopt;
        });
    }
    Expr eq_expr() {
        return left_assoc(&Parser::rel_expr, [](const Parser& p) -> std::optional<Expr::Kind> {
            if (p.is_op("="))
                return Expr::Kind::eq;
            if (p.is_op("!="))
                return Expr::Kind::ne;
            return std::nullopt;
        });
    }
    Expr rel_expr() {
        return left_assoc(&Parser::add_expr, [](const Parser& p) -> std::optional<Expr::Kind> {
            if (p.is_op("<") || p.is_op(">") || p.is_op("<=") || p.is_op(">="))
                return Expr::Kind::relational;
            return std::nullopt;
        });
    }
    Expr add_expr() {
        return left_assoc(&Parser::mul_expr, [](const Parser& p) -> std::optional<Expr::Kind> {
            if (p.is_op("+") || p.is_op("-"))
                return Expr::Kind::arith;
            return std::nullopt;
        });
    }
    Expr mul_expr() {
        return left_assoc(&Parser::unary_expr, [](const Parser& p) -> std::optional<Expr::Kind> {
            if (p.is_op("*") || p.is_op("div") || p.is_op("mod"))
                return Expr::Kind::arith;
            return std::nullopt;
        });
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
        Expr f;
        f.kind = Expr::Kind::filter;
        f.args.push_back(primary());
        while (ok_ && is_op("["))
            f.preds.push_back(predicate());
        if (is_op("/") || is_op("//")) {
            if (take("//"))
                f.steps.push_back(descendant_step());
            else
                ++pos_;
            relative_path(f.steps);
        }
        if (f.preds.empty() && f.steps.empty())
            return std::move(f.args.front());
        return f;
    }

    static Step descendant_step() {
        Step s;
        s.axis = Axis::descendant_or_self;
        s.test.kind = NodeTest::Kind::node;
        return s;
    }

    void relative_path(std::vector<Step>& steps) {
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
