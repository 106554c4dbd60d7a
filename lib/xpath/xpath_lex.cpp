// The XPath 1.0 tokenizer: one pass over the text, a token at a time.
#include "xpath_lex.hpp"

#include <array>
#include <cstddef>

namespace pcj::detail::xp {

namespace {

// The character classes of §3.7, one table look-up per character.
enum : unsigned char { kNameStart = 1, kNameChar = 2, kDigit = 4, kSpace = 8 };
constexpr std::array<unsigned char, 256> kClasses = [] {
    std::array<unsigned char, 256> t{};
    for (unsigned u = 0; u < 256; ++u) {
        const bool start =
            (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u >= 0x80;
        const bool digit = u >= '0' && u <= '9';
        unsigned char c = 0;
        c |= start ? kNameStart | kNameChar : 0;
        c |= digit ? kDigit | kNameChar : 0;
        c |= u == '.' || u == '-' ? kNameChar : 0;
        c |= u == ' ' || u == '\t' || u == '\n' || u == '\r' ? kSpace : 0;
        t[u] = c;
    }
    return t;
}();

bool in_class(char c, unsigned char cls) {
    return (kClasses[static_cast<unsigned char>(c)] & cls) != 0;
}
bool name_start(char c) {
    return in_class(c, kNameStart);
}
bool digit(char c) {
    return in_class(c, kDigit);
}
bool name_char(char c) {
    return in_class(c, kNameChar);
}
bool space(char c) {
    return in_class(c, kSpace);
}

class Lexer {
public:
    explicit Lexer(std::string_view s) : s_(s) {}

    // False when the text holds something XPath 1.0 does not allow.
    bool run(std::vector<Token>& out) {
        // About one token in three characters, for the expressions filters use: one allocation
        // for most, instead of one per doubling.
        out.reserve(out.size() + s_.size() / 3 + 2);
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

} // namespace

bool tokenize(std::string_view xpath, std::vector<Token>& out) {
    return Lexer(xpath).run(out);
}

} // namespace pcj::detail::xp
