// Expressions of the XPath fast path's subset and stanzas for them, drawn from any source of
// choices: the differential unit test draws from a seeded generator, the fuzz target from its
// input bytes (fuzz/fuzz_xpath_fast.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "pcj/node.hpp"

namespace pcj::test {

// The prefixes the expressions use; "c" is bound to a stream content namespace, which XPath
// sees as no namespace, so c:body never selects anything.
inline constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kSubsetPrefixes = {{
    {"p", "urn:p"},
    {"q", "urn:q"},
    {"c", "jabber:client"},
    {"x", "urn:unused"},
}};

// Source: anything with `unsigned pick(unsigned n)` returning a value below n (0 when exhausted).
template <class Source> class SubsetGenerator {
public:
    explicit SubsetGenerator(Source& src) : src_(src) {}

    // A top-level expression: a location path (fires with what it selects) or a boolean.
    std::string expression() {
        std::string out;
        out.reserve(128);
        if (pick(3) == 0)
            boolean(0, out);
        else
            path(0, true, out);
        return out;
    }

    // A stanza whose names, namespaces, attributes and texts are those the expressions test.
    Node stanza() {
        static constexpr std::array<std::string_view, 5> roots = {"message", "iq", "presence",
                                                                  "body", "p:message"};
        static constexpr std::array<std::string_view, 4> root_ns = {
            "jabber:client", "", "jabber:component:accept", "urn:p"};
        Node n{std::string(one(roots)), std::string(one(root_ns))};
        fill(n, 0);
        return n;
    }

private:
    Source& src_;

    unsigned pick(std::size_t n) { return src_.pick(static_cast<unsigned>(n)); }
    template <std::size_t N> std::string_view one(const std::array<std::string_view, N>& v) {
        return v[pick(N)];
    }

    // Each part is appended to `out` as it is drawn, so that the choices are made in reading
    // order (the same bytes must give the same expression under every compiler: the fuzz
    // corpus is replayed by gcc builds) and an expression costs one string.
    void sp(std::string& out) {
        if (pick(6) == 0)
            out += ' ';
    }

    void literal(std::string& out) {
        static constexpr std::array<std::string_view, 12> lits = {
            "", "a", "ab", "chat", "!cmd", "!cmd x", " a", "a b", "\xc3\xa9", "&amp;", "&", "b"};
        const std::string_view v = one(lits);
        const char quote = pick(4) == 0 ? '"' : '\'';
        out += quote;
        out += v;
        out += quote;
    }

    void name_test(std::string& out) {
        static constexpr std::array<std::string_view, 14> names = {
            "message", "body", "subject", "x",      "y",      "item", "*",
            "p:x",     "p:*",  "q:y",     "c:body", "p:item", "x:y",  "presence"};
        if (pick(10) == 0)
            out += "child::";
        out += one(names);
    }

    void attribute_step(std::string& out) {
        static constexpr std::array<std::string_view, 7> attrs = {"id",   "type", "to",   "from",
                                                                  "lang", "*",    "xmlns"};
        out += pick(6) == 0 ? "attribute::" : "@";
        out += one(attrs);
    }

    void path(int depth, bool top, std::string& out) {
        const std::size_t start = out.size();
        const bool absolute = pick(3) != 0 && (top || pick(4) == 0);
        const unsigned steps = 1 + pick(depth > 1 ? 2 : 3);
        for (unsigned i = 0; i < steps; ++i) {
            if (absolute || i > 0)
                out += '/';
            name_test(out);
            const unsigned preds = depth < 3 ? pick(4) : 0;
            for (unsigned k = 0; k < preds && k < 2; ++k) {
                out += '[';
                sp(out);
                boolean(depth + 1, out);
                sp(out);
                out += ']';
            }
        }
        if (pick(3) == 0) {
            out += '/';
            attribute_step(out);
        } else if (!absolute && pick(4) == 0) {
            out.resize(start); // a bare attribute, relative to the context node
            attribute_step(out);
        }
    }

    // "path op literal" or "literal op path".
    void compare(int depth, std::string_view op, bool literal_first, std::string& out) {
        if (literal_first)
            literal(out);
        else
            path(depth, false, out);
        sp(out);
        out += op;
        sp(out);
        if (literal_first)
            path(depth, false, out);
        else
            literal(out);
    }

    void call(std::string_view name, int depth, std::string& out) {
        out += name;
        out += '(';
        path(depth, false, out);
        out += ',';
        sp(out);
        literal(out);
        out += ')';
    }

    void boolean(int depth, std::string& out) {
        const unsigned k = pick(depth > 3 ? 6 : 10);
        switch (k) {
        case 0:
            return path(depth, false, out);
        case 1:
            return compare(depth, "=", false, out);
        case 2:
            return compare(depth, "=", true, out);
        case 3:
            return compare(depth, "!=", false, out);
        case 4:
            return call("starts-with", depth, out);
        case 5:
            return call("contains", depth, out);
        case 6:
            out += "not(";
            boolean(depth + 1, out);
            out += ')';
            return;
        case 7:
        case 8:
            boolean(depth + 1, out);
            out += k == 7 ? " and " : " or ";
            boolean(depth + 1, out);
            return;
        default:
            out += '(';
            boolean(depth + 1, out);
            out += " or ";
            boolean(depth + 1, out);
            out += ") and ";
            boolean(depth + 1, out);
            return;
        }
    }

    std::string text() {
        static constexpr std::array<std::string_view, 11> texts = {
            "a", "b", "ab", "!cmd x", " ", "chat", "\xc3\xa9", "&", "", "a b", "&amp;"};
        return std::string(one(texts));
    }

    void attributes(Node& n) {
        static constexpr std::array<std::string_view, 9> names = {
            "id", "type", "to", "from", "xml:lang", "p:id", "lang", "xmlns", "xmlns:p"};
        static constexpr std::array<std::string_view, 8> values = {"a",     "chat", "",      "ab",
                                                                   "urn:p", "!cmd", "&amp;", "a&b"};
        const unsigned count = pick(4);
        for (unsigned i = 0; i < count; ++i) {
            const std::string_view name = one(names);
            n.set_attr(name, std::string(one(values)));
        }
    }

    void fill(Node& n, int depth) {
        attributes(n);
        const unsigned kids = depth < 3 ? pick(5) : 0;
        for (unsigned i = 0; i < kids; ++i) {
            switch (pick(8)) {
            case 0:
                n.add_text(text());
                break;
            case 1: // a text child beside another, as a builder may leave it
                n.children().push_back(Node::text_node(text()));
                break;
            default:
                n.add_child(element(depth + 1));
                break;
            }
        }
    }

    Node element(int depth) {
        static constexpr std::array<std::string_view, 10> names = {
            "body", "subject", "x", "y", "item", "p:item", "message", "q:y", "p:x", "thread"};
        static constexpr std::array<std::string_view, 6> spaces = {
            "", "jabber:client", "urn:p", "urn:q", "urn:other", "jabber:server"};
        Node n{std::string(one(names)), std::string(one(spaces))};
        fill(n, depth);
        return n;
    }
};

} // namespace pcj::test
