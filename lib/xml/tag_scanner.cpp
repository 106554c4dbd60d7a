// TagScanner: a few states over the bytes — text, a start tag, a quoted value, CDATA, other
// markup — enough to know which '=' signs separate an attribute's name from its value.
#include "tag_scanner.hpp"

#include <cstring>

namespace pcj::detail {

std::size_t TagScanner::scan(std::string_view bytes) {
    const char* const begin = bytes.data();
    const char* const end = begin + bytes.size();
    for (const char* p = begin; p < end; ++p) {
        const char c = *p;
        switch (state_) {
        case State::text: {
            // Most bytes are text: jump to the next markup.
            const void* lt = std::memchr(p, '<', static_cast<std::size_t>(end - p));
            if (lt == nullptr)
                return std::string_view::npos;
            p = static_cast<const char*>(lt);
            state_ = State::open;
            break;
        }
        case State::open:
            // An end tag or a processing instruction holds no attributes; "<!" is CDATA or
            // markup XMPP refuses anyway (a comment, a DTD).
            state_ = c == '/' || c == '?' ? State::other : c == '!' ? State::bang : State::tag;
            count_ = 0;
            break;
        case State::bang:
            // "<![" opens CDATA and "<!-" a comment; any other "<!" is a DTD declaration.
            if (c != '[' && c != '-') {
                refusal_ = Refusal::dtd;
                return static_cast<std::size_t>(p - begin);
            }
            state_ = c == '[' ? State::cdata : State::other;
            brackets_ = 0;
            break;
        case State::cdata:
            if (c == '>' && brackets_ >= 2)
                state_ = State::text;
            brackets_ = c == ']' ? brackets_ + 1 : 0;
            break;
        case State::other:
            if (c == '>')
                state_ = State::text;
            break;
        case State::tag:
            if (c == '"' || c == '\'') {
                quote_ = c;
                state_ = State::quoted;
            } else if (c == '>') {
                state_ = State::text;
            } else if (c == '=' && ++count_ > max_) {
                refusal_ = Refusal::attributes;
                return static_cast<std::size_t>(p - begin);
            }
            break;
        case State::quoted:
            if (c == quote_)
                state_ = State::tag;
            break;
        }
    }
    return std::string_view::npos;
}

} // namespace pcj::detail
