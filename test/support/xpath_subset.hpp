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
    std::string expression() { return pick(3) == 0 ? boolean(0) : path(0, true); }

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

    std::string sp() { return pick(6) == 0 ? " " : ""; }

    std::string literal() {
        static constexpr std::array<std::string_view, 12> lits = {
            "", "a", "ab", "chat", "!cmd", "!cmd x", " a", "a b", "\xc3\xa9", "&amp;", "&", "b"};
        const std::string_view v = one(lits);
        return pick(4) == 0 ? "\"" + std::string(v) + "\"" : "'" + std::string(v) + "'";
    }

    std::string name_test() {
        static constexpr std::array<std::string_view, 14> names = {
            "message", "body", "subject", "x",      "y",      "item", "*",
            "p:x",     "p:*",  "q:y",     "c:body", "p:item", "x:y",  "presence"};
        std::string axis = pick(10) == 0 ? "child::" : "";
        return axis + std::string(one(names));
    }

    std::string attribute_step() {
        static constexpr std::array<std::string_view, 7> attrs = {"id",   "type", "to",   "from",
                                                                  "lang", "*",    "xmlns"};
        const std::string axis = pick(6) == 0 ? "attribute::" : "@";
        return axis + std::string(one(attrs));
    }

    // Every choice is made in its own statement: the operands of "+" are evaluated in no fixed
    // order, and the same bytes must give the same expression under every compiler (the fuzz
    // corpus is replayed by gcc builds).
    std::string path(int depth, bool top) {
        std::string out;
        const bool absolute = pick(3) != 0 && (top || pick(4) == 0);
        const unsigned steps = 1 + pick(depth > 1 ? 2 : 3);
        for (unsigned i = 0; i < steps; ++i) {
            if (absolute || i > 0)
                out += "/";
            out += name_test();
            const unsigned preds = depth < 3 ? pick(4) : 0;
            for (unsigned k = 0; k < preds && k < 2; ++k) {
                out += "[";
                out += sp();
                out += boolean(depth + 1);
                out += sp();
                out += "]";
            }
        }
        if (pick(3) == 0)
            out += "/" + attribute_step();
        else if (!absolute && pick(4) == 0)
            out = attribute_step(); // a bare attribute, relative to the context node
        return out;
    }

    // "path op literal" or "literal op path", each part drawn in reading order.
    std::string compare(int depth, std::string_view op, bool literal_first) {
        std::string out = literal_first ? literal() : path(depth, false);
        out += sp();
        out += op;
        out += sp();
        out += literal_first ? path(depth, false) : literal();
        return out;
    }

    std::string call(std::string_view name, int depth) {
        std::string out(name);
        out += "(";
        out += path(depth, false);
        out += ",";
        out += sp();
        out += literal();
        out += ")";
        return out;
    }

    std::string boolean(int depth) {
        const unsigned k = pick(depth > 3 ? 6 : 10);
        std::string out;
        switch (k) {
        case 0:
            return path(depth, false);
        case 1:
            return compare(depth, "=", false);
        case 2:
            return compare(depth, "=", true);
        case 3:
            return compare(depth, "!=", false);
        case 4:
            return call("starts-with", depth);
        case 5:
            return call("contains", depth);
        case 6:
            out = "not(";
            out += boolean(depth + 1);
            return out + ")";
        case 7:
        case 8:
            out = boolean(depth + 1);
            out += k == 7 ? " and " : " or ";
            out += boolean(depth + 1);
            return out;
        default:
            out = "(";
            out += boolean(depth + 1);
            out += " or ";
            out += boolean(depth + 1);
            out += ") and ";
            out += boolean(depth + 1);
            return out;
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
