// The XPath pre-filter: what a stanza must have for a filter to fire, and an index over it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pcj/node.hpp"

namespace pcj::detail {

// FilterSet evaluates filters with libxml2 against a document built from the stanza
// (xpath.cpp), and libxml2 alone decides whether a filter matches and what it selects. This
// file only rules filters OUT: it reasons about that document through the pcj::Node it was
// built from, and is only used on stanzas for which plain_stanza() vouches that the two agree on
// every element's name and namespace, on every attribute and on every text (no NUL bytes, no
// namespace declaration that would make libxml2 put an element elsewhere, no name whose prefix
// the two would split differently). Other stanzas take every filter
// through libxml2.
//
// A Plan is derived from the expression's text when the filter is added (and again whenever one
// of its prefixes is rebound):
//  - cond: a necessary condition for the filter to fire, over the stanza's own name,
//    attributes and children. Whatever the analysis does not understand counts as "true".
//  - keys: atoms of cond, at least one of which holds whenever cond does; the index files the
//    filter under them. A filter without keys is a candidate on every stanza.
// A filter skipped on a stanza is one libxml2 could not have fired on it; every other candidate
// goes to libxml2.

using PrefixMap = std::map<std::string, std::string, std::less<>>;

// An element name test, resolved: "body" is local "body" in no namespace (which, for XPath, is
// where the stream content namespaces are); "p:x" is "x" in p's URI; "*" is any element.
struct ElemTest {
    enum class Ns : unsigned char { none, uri, any };
    Ns ns = Ns::none;
    std::string uri;
    std::string local; // empty: any local name
};

struct Atom {
    enum class Kind : unsigned char {
        root,              // the stanza matches test
        child,             // a child element matches test
        attr_eq,           // the stanza's attribute name equals value
        attr_prefix,       // the stanza's first attribute name starts with value
        attr_present,      // the stanza has attribute name
        child_attr_eq,     // a child matching test has attribute name equal to value
        child_text_eq,     // a child matching test has the string value value
        child_text_prefix, // a child matching test has a string value starting with value
    };
    Kind kind = Kind::root;
    ElemTest test;
    std::string name;
    std::string value;
};

struct Cond {
    enum class Kind : unsigned char { yes, atom, all, any };
    Kind kind = Kind::yes;
    Atom atom;
    std::vector<Cond> kids;
};

struct Plan {
    Cond cond;
    std::vector<Atom> keys; // empty: a candidate on every stanza
};

Plan make_plan(std::string_view xpath, const PrefixMap& prefixes);
namespace xp {
struct Expr;
}
// The same from the expression parsed already (xp::parse), which FilterSet shares with the
// fast path's compiler.
Plan make_plan(const xp::Expr& parsed, const PrefixMap& prefixes);

// -- per stanza ------------------------------------------------------------------------------

bool plain_stanza(const Node& stanza);
// plain_stanza() for a stanza as XmlStream delivers it, at a fraction of the cost: from the
// parser, no name, namespace or text holds a NUL byte, no name starts or ends with a colon, and a
// prefix an element declares on itself is the one its namespace came from, so only the prefixes
// xml and xmlns are left to look for. fuzz_xml_stream checks that the two agree on every stanza
// the parser delivers.
bool plain_parsed_stanza(const Node& stanza);
bool holds(const Cond& cond, const Node& stanza);

// The stream content namespaces (and none), which XPath sees as no namespace.
bool is_content_ns(std::string_view ns);
// Whether element e (of a plain stanza) passes the name test as libxml2 sees it.
bool element_matches(const Node& e, const ElemTest& t);
// An element's XPath string value, the concatenation of its descendants' text; the view is into
// the element or into buffer.
std::string_view string_value(const Node& e, std::string& buffer);

// Filter ids by key; candidates() returns, ascending, every filter that has no key or one of
// whose keys the stanza has.
class FilterIndex {
public:
    void add(std::uint32_t id, const Plan& plan);
    void candidates(const Node& stanza, std::vector<std::uint32_t>& out) const;

private:
    void hit(std::uint64_t key, std::vector<std::uint32_t>& out) const;
    void text_hits(const Node& child, std::string& buffer, std::vector<std::uint32_t>& out) const;

    std::vector<std::uint32_t> always_;
    std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> keys_;
    bool root_ = false;
    bool child_ = false;
    std::vector<std::string> child_names_; // the local names under a child key
    std::vector<std::string> eq_names_;
    std::vector<std::string> present_names_;
    std::vector<std::string> child_attr_names_;
    std::vector<std::pair<std::string, std::vector<std::size_t>>> prefix_lengths_;
    std::vector<std::string> text_names_; // child local names under a child_text_eq key
    std::vector<std::pair<std::string, std::vector<std::size_t>>> text_prefix_lengths_;
};

} // namespace pcj::detail
