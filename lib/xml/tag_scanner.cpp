// TagScanner: a few states over the bytes — text, a start tag, a quoted value, CDATA, other
// markup — enough to know which '=' signs separate an attribute's name from its value.
//
// It sees every byte of the stream before libxml2 does, so it skips what it can. Text and end
// tags are crossed with memchr to the next '<'; so is a start tag that ends (at the next '<')
// before it could be refused, which is nearly every tag a real stream holds. Only a longer start
// tag is walked: to its next quote, '>' or '=', and its quoted values with memchr.
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

// The start tag (or its quoted value) at p, up to the next '<' or the end of the bytes. Returns
// where scanning goes on, or the '=' that refuses the tag (`refused` is then set).
const char* TagScanner::walk_tag(const char* p, const char* begin, const char* end, bool& refused) {
    const auto offset = [&](const char* at) {
        return scanned_ + static_cast<std::size_t>(at - begin) - tag_start_;
    };
    const char* const lt = find(p, end, '<');
    if (lt != nullptr && offset(lt) <= reach_) {
        // Every '=' before lt lies short of reach(): nothing in this tag can refuse it.
        tag_start_ += offset(lt);
        state_ = State::open;
        return lt + 1;
    }
    const char* const stop = lt != nullptr ? lt : end;
    while (p < stop) {
        if (state_ == State::quoted) {
            const char* q = find(p, stop, quote_);
            if (q == nullptr)
                break;
            state_ = State::tag;
            p = q + 1;
            continue;
        }
        while (p < stop && !tag_specials[static_cast<unsigned char>(*p)])
            ++p;
        if (p == stop)
            break;
        const char c = *p;
        if (c == '"' || c == '\'') {
            quote_ = c;
            state_ = State::quoted;
        } else if (c == '>') {
            state_ = State::text; // the rest up to lt is text
            break;
        } else if (++count_ > max_ && offset(p) >= reach_) { // c == '='
            refused = true;
            return p;
        }
        ++p;
    }
    if (lt == nullptr)
        return end;
    tag_start_ += offset(lt);
    state_ = State::open;
    return lt + 1;
}

std::size_t TagScanner::scan(std::string_view bytes) {
    const char* const begin = bytes.data();
    const char* const end = begin + bytes.size();
    const auto stop_at = [&](const char* p, Refusal why) {
        refusal_ = why;
        scanned_ += bytes.size();
        return static_cast<std::size_t>(p - begin);
    };
    const char* p = begin;
    while (p < end) {
        switch (state_) {
        case State::text: {
            // Most bytes are text, and the markup among them end tags and start tags that end
            // before reach(): from one '<' to the next without a trip round the switch.
            const char* lt = find(p, end, '<');
            for (;;) {
                if (lt == nullptr) {
                    p = end;
                    break;
                }
                tag_start_ = scanned_ + static_cast<std::size_t>(lt - begin);
                const char* const next = lt + 1;
                if (next == end || *next == '<' || *next == '?' || *next == '!') {
                    state_ = State::open;
                    p = next;
                    break;
                }
                if (*next == '/') {
                    lt = find(next + 1, end, '<');
                    continue;
                }
                const char* const after = find(next + 1, end, '<');
                if (after == nullptr ||
                    scanned_ + static_cast<std::size_t>(after - begin) - tag_start_ > reach_) {
                    count_ = 0; // a start tag to walk
                    state_ = State::tag;
                    p = next + 1;
                    break;
                }
                lt = after;
            }
            break;
        }
        case State::open: {
            // An end tag holds no attributes: it and the text after it end at the next '<'. A
            // processing instruction holds none either; "<!" is CDATA or markup XMPP refuses
            // anyway (a comment, a DTD).
            const char c = *p;
            if (c == '<') {
                tag_start_ = scanned_ + static_cast<std::size_t>(p - begin);
            } else if (c == '/' || c == '?' || c == '!') {
                state_ = c == '/' ? State::text : c == '?' ? State::other : State::bang;
            } else {
                // A start tag. The usual one ends (at the next '<') before reach(): skip it
                // here, without walk_tag's call.
                count_ = 0;
                state_ = State::tag;
                const char* lt = find(p + 1, end, '<');
                if (lt != nullptr &&
                    scanned_ + static_cast<std::size_t>(lt - begin) - tag_start_ <= reach_) {
                    tag_start_ = scanned_ + static_cast<std::size_t>(lt - begin);
                    state_ = State::open;
                    p = lt;
                }
            }
            ++p;
            break;
        }
        case State::bang: {
            // "<![" opens CDATA and "<!-" a comment; any other "<!" is a DTD declaration.
            const char c = *p;
            if (c != '[' && c != '-')
                return stop_at(p, Refusal::dtd);
            state_ = c == '[' ? State::cdata : State::other;
            brackets_ = 0;
            ++p;
            break;
        }
        case State::cdata: {
            const char c = *p;
            if (c == '>' && brackets_ >= 2)
                state_ = State::text;
            brackets_ = c == ']' ? brackets_ + 1 : 0;
            ++p;
            break;
        }
        case State::other:
            p = find(p, end, '>');
            if (p == nullptr) {
                p = end;
                break;
            }
            state_ = State::text;
            ++p;
            break;
        case State::tag:
        case State::quoted: {
            bool refused = false;
            p = walk_tag(p, begin, end, refused);
            if (refused)
                return stop_at(p, Refusal::attributes);
            break;
        }
        }
    }
    scanned_ += bytes.size();
    return std::string_view::npos;
}

} // namespace pcj::detail
