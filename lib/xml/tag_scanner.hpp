// TagScanner: counts the attributes of each start tag in the raw bytes, before libxml2 sees
// them. libxml2 (2.9.14) checks a start tag for duplicate attributes and namespace declarations
// by comparing each with all before it: 45,000 attributes in one tag cost a second of CPU. The
// bound has to hold before that check runs, so it is enforced on the bytes. It also spots DTD
// markup (<!DOCTYPE, <!ENTITY, …) anywhere, which libxml2 reports inside the root element only
// as an "internal error".
//
// The rules, byte by byte (test/unit/test_tag_scanner.cpp holds them as a model):
// - a start tag runs from its '<' to its '>' or to the next '<', whichever comes first: XML
//   allows no '<' inside a start tag, not even in a quoted value, and libxml2 ends the tag there;
// - a '=' outside quotes in a start tag counts; the count over max_attributes refuses the tag,
//   but only from reach() bytes after its '<' on. An attribute takes at least five bytes
//   (" a=''"), so a tag with more than max_attributes of them always gets that far, and a tag
//   that ends sooner needs no walk: the bytes up to the next '<' are skipped in one memchr;
// - an end tag and the text after it run to the next '<';
// - "<!-" and "<?" run to the next '>', "<![" to the next "]]>", any other "<!" is DTD markup.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

namespace pcj::detail {

class TagScanner {
public:
    explicit TagScanner(std::size_t max_attributes)
        : max_(max_attributes),
          reach_(max_attributes < std::numeric_limits<std::size_t>::max() / 4 - 1
                     ? 4 * (max_attributes + 1)
                     : std::numeric_limits<std::size_t>::max()) {}

    enum class Refusal : std::uint8_t { none, attributes, dtd };

    // Scans the next bytes of the stream. Returns npos when every start tag so far holds at
    // most max_attributes attributes and namespace declarations and no DTD markup came;
    // otherwise the offset in `bytes` where it went wrong (the bytes before it may still be
    // parsed), and refusal() says what.
    std::size_t scan(std::string_view bytes);
    Refusal refusal() const { return refusal_; }
    void reset() {
        state_ = State::text;
        count_ = 0;
        brackets_ = 0;
        scanned_ = 0;
        tag_start_ = 0;
        refusal_ = Refusal::none;
    }
    std::size_t max_attributes() const { return max_; }
    // How far after its '<' a start tag must reach before its '=' signs can refuse it.
    std::size_t reach() const { return reach_; }

private:
    enum class State : std::uint8_t { text, open, tag, quoted, bang, cdata, other };

    const char* walk_tag(const char* p, const char* begin, const char* end, bool& refused);

    std::size_t max_;
    std::size_t reach_;
    State state_ = State::text;
    char quote_ = 0;
    std::size_t count_ = 0;     // '=' signs outside quotes in the current start tag
    std::size_t brackets_ = 0;  // consecutive ']' in a CDATA section
    std::size_t scanned_ = 0;   // bytes of the stream before the current scan()
    std::size_t tag_start_ = 0; // where the current start tag's '<' is in the stream
    Refusal refusal_ = Refusal::none;
};

} // namespace pcj::detail
