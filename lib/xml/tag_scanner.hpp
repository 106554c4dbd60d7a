// TagScanner: counts the attributes of each start tag in the raw bytes, before libxml2 sees
// them. libxml2 (2.9.14) checks a start tag for duplicate attributes and namespace declarations
// by comparing each with all before it: 45,000 attributes in one tag cost a second of CPU. The
// bound has to hold before that check runs, so it is enforced on the bytes. It also spots DTD
// markup (<!DOCTYPE, <!ENTITY, …) anywhere, which libxml2 reports inside the root element only
// as an "internal error".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pcj::detail {

class TagScanner {
public:
    explicit TagScanner(std::size_t max_attributes) : max_(max_attributes) {}

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
        refusal_ = Refusal::none;
    }
    std::size_t max_attributes() const { return max_; }

private:
    enum class State : std::uint8_t { text, open, tag, quoted, bang, cdata, other };

    std::size_t max_;
    State state_ = State::text;
    char quote_ = 0;
    std::size_t count_ = 0;    // '=' signs outside quotes in the current start tag
    std::size_t brackets_ = 0; // consecutive ']' in a CDATA section
    Refusal refusal_ = Refusal::none;
};

} // namespace pcj::detail
