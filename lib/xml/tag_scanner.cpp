// TagScanner: a few states over the bytes — text, a start tag, a quoted value, CDATA, other
// markup — enough to know which '=' signs separate an attribute's name from its value.
//
// It sees every byte of the stream before libxml2 does, so it skips what it can: text, quoted
// values and other markup are crossed with memchr to the one byte that ends them, and a start
// tag is walked only to its next quote, '>' or '='.
#include "tag_scanner.hpp"

#include <array>
#include <cstring>

namespace pcj::detail {

namespace {

// The bytes that change a start tag's state.
constexpr std::array<bool, 256> tag_specials = [] {
    std::array<bool, 256> t{};
    for (const unsigned char c : {'"', '\'', '>', '='})
        t[c] = true;
    return t;
}();

// The first byte at or after p equal to c, or null.
const char* find(const char* p, const char* end, char c) {
    return static_cast<const char*>(std::memchr(p, c, static_cast<std::size_t>(end - p)));
}

} // namespace

std::size_t TagScanner::scan(std::string_view bytes) {
    const char* const begin = bytes.data();
    const char* const end = begin + bytes.size();
    for (const char* p = begin; p < end; ++p) {
        switch (state_) {
        case State::text:
            // Most bytes are text: jump to the next markup.
            p = find(p, end, '<');
            if (p == nullptr)
                return std::string_view::npos;
            state_ = State::open;
            break;
        case State::open: {
            // An end tag or a processing instruction holds no attributes; "<!" is CDATA or
            // markup XMPP refuses anyway (a comment, a DTD).
            const char c = *p;
            state_ = c == '/' || c == '?' ? State::other : c == '!' ? State::bang : State::tag;
            count_ = 0;
            break;
        }
        case State::bang: {
            // "<![" opens CDATA and "<!-" a comment; any other "<!" is a DTD declaration.
            const char c = *p;
            if (c != '[' && c != '-') {
                refusal_ = Refusal::dtd;
                return static_cast<std::size_t>(p - begin);
            }
            state_ = c == '[' ? State::cdata : State::other;
            brackets_ = 0;
            break;
        }
        case State::cdata: {
            const char c = *p;
            if (c == '>' && brackets_ >= 2)
                state_ = State::text;
            brackets_ = c == ']' ? brackets_ + 1 : 0;
            break;
        }
        case State::other:
            p = find(p, end, '>');
            if (p == nullptr)
                return std::string_view::npos;
            state_ = State::text;
            break;
        case State::tag: {
            while (p < end && !tag_specials[static_cast<unsigned char>(*p)])
                ++p;
            if (p == end)
                return std::string_view::npos;
            const char c = *p;
            if (c == '"' || c == '\'') {
                quote_ = c;
                state_ = State::quoted;
            } else if (c == '>') {
                state_ = State::text;
            } else if (++count_ > max_) { // c == '='
                refusal_ = Refusal::attributes;
                return static_cast<std::size_t>(p - begin);
            }
            break;
        }
        case State::quoted:
            p = find(p, end, quote_);
            if (p == nullptr)
                return std::string_view::npos;
            state_ = State::tag;
            break;
        }
    }
    return std::string_view::npos;
}

} // namespace pcj::detail
