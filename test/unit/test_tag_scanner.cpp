// TagScanner against a byte-at-a-time model of the same rules (tag_scanner.hpp): the scanner
// skips runs of bytes with memchr and a lookup table, and short start tags whole, and must still
// stop at exactly the byte the model stops at, with the same refusal, however the stream is split
// into reads. And the rules against libxml2's view: a start tag with more attributes than the
// bound is always refused, however short its names and values.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tag_scanner.hpp"

using pcj::detail::TagScanner;

namespace {

// The rules, one byte at a time: where the first refusal happens in the whole stream (npos:
// none) and what it is.
struct Model {
    std::size_t at = std::string_view::npos;
    TagScanner::Refusal refusal = TagScanner::Refusal::none;
};

Model model(std::string_view s, std::size_t max) {
    const std::size_t reach = 4 * (max + 1);
    enum { text, open, tag, quoted, bang, cdata, other } st = text;
    char quote = 0;
    std::size_t count = 0, brackets = 0, start = 0; // start: the current tag's '<'
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        switch (st) {
        case text:
            if (c == '<') {
                st = open;
                start = i;
            }
            break;
        case open:
            if (c == '<') {
                start = i;
                break;
            }
            count = 0;
            st = c == '/' ? text : c == '?' ? other : c == '!' ? bang : tag;
            break;
        case bang:
            if (c != '[' && c != '-')
                return {i, TagScanner::Refusal::dtd};
            st = c == '[' ? cdata : other;
            brackets = 0;
            break;
        case cdata:
            if (c == '>' && brackets >= 2)
                st = text;
            brackets = c == ']' ? brackets + 1 : 0;
            break;
        case other:
            if (c == '>')
                st = text;
            break;
        case tag:
            if (c == '<') {
                st = open;
                start = i;
            } else if (c == '"' || c == '\'') {
                quote = c;
                st = quoted;
            } else if (c == '>') {
                st = text;
            } else if (c == '=' && ++count > max && i - start >= reach) {
                return {i, TagScanner::Refusal::attributes};
            }
            break;
        case quoted:
            if (c == '<') {
                st = open;
                start = i;
            } else if (c == quote) {
                st = tag;
            }
            break;
        }
    }
    return {};
}

// The scanner fed `s` in reads cut at the given points; the refusal's offset in the whole stream.
Model scanned(std::string_view s, std::size_t max, const std::vector<std::size_t>& cuts) {
    TagScanner scanner(max);
    std::size_t from = 0;
    for (std::size_t i = 0; i <= cuts.size(); ++i) {
        const std::size_t to = i < cuts.size() ? cuts[i] : s.size();
        const std::size_t at = scanner.scan(s.substr(from, to - from));
        if (at != std::string_view::npos)
            return {from + at, scanner.refusal()};
        from = to;
    }
    return {std::string_view::npos, scanner.refusal()};
}

} // namespace

TEST_CASE("tag scanner: counts attributes and spots DTD markup", "[xml_stream][hostile]") {
    const auto at = [](std::string_view s, std::size_t max) {
        return scanned(s, max, {});
    };
    CHECK(at("<a x='1' y=\"2\">text = text</a>", 2).at == std::string_view::npos);
    const auto third = at("<a x='1' y='2' z='3'/>", 2);
    CHECK(third.at == 16);
    CHECK(third.refusal == TagScanner::Refusal::attributes);
    // '=' inside values, text, CDATA, comments and end tags is not an attribute.
    CHECK(at("<a x='a=b=c' y=\"'='\"><![CDATA[<b c=d e=f>]]>=<!-- g=h --></a x=y>", 2).at ==
          std::string_view::npos);
    // A '>' inside a value does not end the tag; "]>" is not the end of CDATA.
    CHECK(at("<a x='>' y='1' z='2'>", 2).refusal == TagScanner::Refusal::attributes);
    CHECK(at("<![CDATA[ ]> <a b=c d=e> ]]><f g='1'/>", 1).at == std::string_view::npos);
    const auto dtd = at("<a><!DOCTYPE a></a>", 10);
    CHECK(dtd.at == 5);
    CHECK(dtd.refusal == TagScanner::Refusal::dtd);
    // A start tag that ends (at '>' or the next '<') before reach() cannot hold more attributes
    // than the bound, so its '=' signs (here malformed ones) are not counted: reach is 12 for 2.
    CHECK(TagScanner(2).reach() == 12);
    CHECK(at("<a b=c=d=e><f/>", 2).at == std::string_view::npos);
    CHECK(at("<a b=c=d=e=ff=g>", 2).at == 13);
    // '<' ends a start tag even inside a quoted value: what follows is a tag of its own.
    CHECK(at("<a x='<!DOCTYPE a>'>", 10).refusal == TagScanner::Refusal::dtd);
    CHECK(at("<a b='1' c='2' <d e='3'/>", 2).at == std::string_view::npos);
    // An end tag runs to the next '<', '>' or not.
    CHECK(at("</a x='<!ENTITY'>", 10).refusal == TagScanner::Refusal::dtd);
}

namespace {

// A start tag as libxml2 parses it: each attribute (or namespace declaration) after blanks, as
// short as names and values can be, or longer.
std::string start_tag(std::mt19937& rng, std::size_t attributes) {
    const auto pick = [&](std::string_view from) {
        return from[rng() % from.size()];
    };
    std::string tag = "<";
    for (std::size_t n = 1 + rng() % 3; n > 0; --n)
        tag += pick("abcxyz");
    for (std::size_t i = 0; i < attributes; ++i) {
        for (std::size_t n = 1 + (rng() % 4 == 0 ? 1 : 0); n > 0; --n)
            tag += pick(" \t\n");
        if (rng() % 5 == 0)
            tag += "xmlns:";
        for (std::size_t n = 1 + rng() % 3 * (rng() % 2); n > 0; --n)
            tag += pick("abcxyz");
        tag += '=';
        const char quote = pick("'\"");
        tag += quote;
        for (std::size_t n = rng() % 4 * (rng() % 2); n > 0; --n)
            tag += pick(quote == '"' ? "ab'=>" : "ab\"=>");
        tag += quote;
    }
    tag += rng() % 2 == 0 ? ">" : "/>";
    return tag;
}

} // namespace

TEST_CASE("tag scanner: a start tag with more attributes than the bound is always refused",
          "[xml_stream][hostile]") {
    std::mt19937 rng(16);
    for (int round = 0; round < 5000; ++round) {
        const std::size_t max = round % 3 == 0 ? 64 : rng() % 10;
        std::size_t n = max + rng() % 7; // around the bound: max - 3 to max + 3
        n = n >= 3 ? n - 3 : 0;
        const std::string tag = start_tag(rng, n);
        const std::string stream = "<s>" + std::string(rng() % 3, 't') + tag + "text</s>";
        std::vector<std::size_t> cuts;
        for (std::size_t k = rng() % 3; k > 0; --k)
            cuts.push_back(rng() % (stream.size() + 1));
        std::sort(cuts.begin(), cuts.end());
        INFO("tag: " << tag << " max " << max);
        const Model got = scanned(stream, max, cuts);
        REQUIRE(got.at == model(stream, max).at);
        if (n > max) {
            REQUIRE(got.refusal == TagScanner::Refusal::attributes);
        } else {
            REQUIRE(got.at == std::string_view::npos);
        }
    }
}

TEST_CASE("tag scanner: the same stop as the byte-at-a-time model, however the reads are cut",
          "[xml_stream][hostile]") {
    std::mt19937 rng(20261203);
    const std::string alphabet = "<<>>/?![]]--==\"\"''ab  \n";
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::uniform_int_distribution<std::size_t> length(0, 80);
    std::uniform_int_distribution<std::size_t> max_attrs(0, 4);
    std::size_t refused = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string s(length(rng), ' ');
        for (auto& c : s)
            c = alphabet[pick(rng)];
        const std::size_t max = max_attrs(rng);
        std::vector<std::size_t> cuts;
        if (!s.empty()) {
            std::uniform_int_distribution<std::size_t> cut(0, s.size());
            for (std::size_t k = rng() % 4; k > 0; --k)
                cuts.push_back(cut(rng));
            std::sort(cuts.begin(), cuts.end());
        }
        const Model want = model(s, max);
        const Model got = scanned(s, max, cuts);
        INFO("input: " << s << " max " << max);
        REQUIRE(got.at == want.at);
        REQUIRE(got.refusal == want.refusal);
        refused += want.at != std::string_view::npos ? 1 : 0;
    }
    // Both outcomes were exercised, many times over.
    CHECK(refused > 1000);
    CHECK(refused < 19000);
}
