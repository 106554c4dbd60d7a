// XPath 1.0 tokenizer and recursive-descent parser producing the tree of xpath_parse.hpp.
#include "xpath_parse.hpp"

#include <cstddef>
#include <utility>

namespace pcj::detail::xp {

namespace {

// Deeper nesting is legal XPath but no filter needs it; refusing keeps the recursion bounded.
constexpr int kMaxNesting = 64;

struct Token {
    enum class T { end, literal, number, name, op, function, node_type, axis, variable };
    T t = T::end;
    std::string_view text; // op: the symbol or operator name; literal: the value
    std::string_view prefix;
    std::string_view local; // name: "*" for a wildcard
};

bool name_start(char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u >= 0x80;
}
bool digit(char c) {
    return c >= '0' && c <= '9';
}
bool name_char(char c) {
    return name_start(c) || digit(c) || c == '.' || c == '-';
}
bool space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

class Lexer {
public:
    explicit Lexer(std::string_view s) : s_(s) {}

    // False when the text holds something XPath 1.0 does not allow.
    bool run(std::vector<Token>& out) {
        while (true) {
            while (i_ < s_.size() && space(s_[i_]))
                ++i_;
            if (i_ == s_.size()) {
                out.push_back(Token{});
                return true;
            }
            Token tok;
            if (!next(tok))
                return false;
            out.push_back(tok);
            prev_ = &out.back();
        }
    }

private:
    std::string_view s_;
    std::size_t i_ = 0;
    const Token* prev_ = nullptr;

    // §3.7: after an operand, '*' multiplies and a name is an operator name.
    bool after_operand() const {
        if (prev_ == nullptr)
            return false;
        if (prev_->t == Token::T::op) {
            const std::string_view p = prev_->text;
            return p == ")" || p == "]" || p == "." || p == "..";
        }
        return prev_->t != Token::T::axis;
    }

    bool op(Token& tok, std::size_t len) {
        tok.t = Token::T::op;
        tok.text = s_.substr(i_, len);
        i_ += len;
        return true;
    }

    bool next(Token& tok) {
        const char c = s_[i_];
        const char n = i_ + 1 < s_.size() ? s_[i_ + 1] : '\0';
        switch (c) {
        case '(':
        case ')':
        case '[':
        case ']':
        case ',':
        case '@':
        case '|':
        case '+':
        case '-':
        case '=':
            return op(tok, 1);
        case '/':
            return op(tok, n == '/' ? 2 : 1);
        case '!':
            return n == '=' && op(tok, 2);
        case '<':
        case '>':
            return op(tok, n == '=' ? 2 : 1);
        case '.':
            if (digit(n))
                return number(tok);
            return op(tok, n == '.' ? 2 : 1);
        case '"':
        case '\'':
            return literal(tok, c);
        case '$':
            ++i_;
            tok.t = Token::T::variable;
            return qname(tok);
        case '*':
            if (after_operand())
                return op(tok, 1);
            tok.t = Token::T::name;
            tok.local = s_.substr(i_++, 1);
            return true;
        default:
            break;
        }
        if (digit(c))
            return number(tok);
        if (!name_start(c))
            return false;
        if (after_operand()) {
            const std::size_t start = i_;
            while (i_ < s_.size() && name_char(s_[i_]))
                ++i_;
            tok.t = Token::T::op;
            tok.text = s_.substr(start, i_ - start);
            return tok.text == "and" || tok.text == "or" || tok.text == "div" || tok.text == "mod";
        }
        return name(tok);
    }

    bool number(Token& tok) {
        const std::size_t start = i_;
        while (i_ < s_.size() && (digit(s_[i_]) || s_[i_] == '.'))
            ++i_;
        tok.t = Token::T::number;
        tok.text = s_.substr(start, i_ - start);
        return true;
    }

    bool literal(Token& tok, char quote) {
        const std::size_t close = s_.find(quote, i_ + 1);
        if (close == std::string_view::npos)
            return false;
        tok.t = Token::T::literal;
        tok.text = s_.substr(i_ + 1, close - i_ - 1);
        i_ = close + 1;
        return true;
    }

    std::string_view ncname() {
        const std::size_t start = i_;
        if (i_ < s_.size() && name_start(s_[i_]))
            while (i_ < s_.size() && name_char(s_[i_]))
                ++i_;
        return s_.substr(start, i_ - start);
    }

    // prefix:local, prefix:* or local.
    bool qname(Token& tok) {
        tok.local = ncname();
        if (tok.local.empty())
            return false;
        if (i_ + 1 < s_.size() && s_[i_] == ':' && s_[i_ + 1] != ':') {
            tok.prefix = tok.local;
            ++i_;
            if (s_[i_] == '*') {
                tok.local = s_.substr(i_++, 1);
                return tok.t == Token::T::name;
            }
            tok.local = ncname();
            return !tok.local.empty();
        }
        return true;
    }

    bool name(Token& tok) {
        tok.t = Token::T::name;
        if (!qname(tok))
            return false;
        std::size_t j = i_;
        while (j < s_.size() && space(s_[j]))
            ++j;
        if (tok.local == "*")
            return true;
        if (j < s_.size() && s_[j] == '(') {
            const std::string_view l = tok.local;
            const bool type = tok.prefix.empty() && (l == "node" || l == "text" || l == "comment" ||
                                                     l == "processing-instruction");
            tok.t = type ? Token::T::node_type : Token::T::function;
            tok.text = tok.local;
            return true;
        }
        if (j + 1 < s_.size() && s_[j] == ':' && s_[j + 1] == ':' && tok.prefix.empty()) {
            tok.t = Token::T::axis;
            tok.text = tok.local;
            i_ = j + 2;
        }
        return true;
    }
};

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
    if (!Lexer(xpath).run(toks))
        return std::nullopt;
    return Parser(std::move(toks)).run();
}

} // namespace pcj::detail::xp
