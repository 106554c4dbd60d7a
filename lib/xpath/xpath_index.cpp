// Per-stanza side of the XPath pre-filter: the plain-stanza check, conditions and the key index
// (see xpath_index.hpp).
#include "xpath_index.hpp"

#include <algorithm>
#include <cstring>

#include "node_access.hpp"

namespace pcj::detail {

bool is_content_ns(std::string_view ns) {
    return ns.empty() || ns == "jabber:client" || ns == "jabber:server" ||
           ns == "jabber:component:accept";
}

namespace {

// e.local_name() == local for a local name without a colon (an XPath NCName), without looking
// for the name's first colon unless the name ends in ":local".
bool local_is(const std::string& name, const std::string& local) {
    if (name.size() == local.size())
        return name == local; // then name has no colon either
    if (name.size() < local.size() + 2 || !name.ends_with(local))
        return false;
    const std::size_t colon = name.size() - local.size() - 1;
    return name[colon] == ':' &&
           std::string_view(name).substr(0, colon).find(':') == std::string_view::npos;
}

} // namespace

bool element_matches(const Node& e, const ElemTest& t) {
    if (e.is_text())
        return false;
    if (!t.local.empty() && !local_is(e.name(), t.local))
        return false;
    switch (t.ns) {
    case ElemTest::Ns::none:
        return is_content_ns(e.ns());
    case ElemTest::Ns::uri:
        return !is_content_ns(e.ns()) && e.ns() == t.uri;
    case ElemTest::Ns::any:
        return true;
    }
    return false;
}

namespace {

void append_text(const Node& e, std::string& out) {
    for (const Node& c : e.children()) {
        if (c.is_text())
            out += NodeAccess::text(c);
        else
            append_text(c, out);
    }
}

} // namespace

std::string_view string_value(const Node& e, std::string& buffer) {
    const std::vector<Node>& kids = e.children();
    if (kids.empty())
        return {};
    if (kids.size() == 1 && kids[0].is_text())
        return NodeAccess::text(kids[0]);
    buffer.clear();
    append_text(e, buffer);
    return buffer;
}

namespace {

bool has_nul(std::string_view s) {
    return std::memchr(s.data(), '\0', s.size()) != nullptr;
}

// The document built for libxml2 puts an element in its pcj::Node's namespace unless the node
// declares its own prefix otherwise (xmlns:p with another URI) or uses the prefixes xml or
// xmlns, which libxml2 will not bind. The document takes an element's local name after the first
// colon, as Node::local_name() does except for a name that starts or ends with one. Text with a
// NUL byte would be cut short there in the document.
bool plain_element(const Node& e) {
    if (e.name().empty() || has_nul(e.name()) || has_nul(e.ns()) || e.name().front() == ':' ||
        e.name().back() == ':')
        return false;
    const std::string_view prefix = e.prefix();
    for (const auto& [name, value] : e.attributes()) {
        if (has_nul(name) || has_nul(value))
            return false;
        if (!prefix.empty() && !is_content_ns(e.ns()) && name.size() == prefix.size() + 6 &&
            name.starts_with("xmlns:") && name.ends_with(prefix) && !value.empty() &&
            value != e.ns())
            return false;
    }
    if (!is_content_ns(e.ns()) && (prefix == "xml" || prefix == "xmlns"))
        return false;
    for (const Node& c : e.children()) {
        if (c.is_text() ? has_nul(NodeAccess::text(c)) : !plain_element(c))
            return false;
    }
    return true;
}

// Namespace declarations are not attributes in the XPath data model.
bool attr_equals(const Node& e, std::string_view name, std::string_view value) {
    if (name == "xmlns")
        return false;
    for (const auto& [n, v] : e.attributes())
        if (n == name && v == value)
            return true;
    return false;
}

const std::string* first_attr(const Node& e, std::string_view name) {
    return name == "xmlns" ? nullptr : e.find_attr(name);
}

bool holds(const Atom& a, const Node& s) {
    switch (a.kind) {
    case Atom::Kind::root:
        return element_matches(s, a.test);
    case Atom::Kind::child:
        return std::any_of(s.children().begin(), s.children().end(),
                           [&](const Node& c) { return element_matches(c, a.test); });
    case Atom::Kind::attr_eq:
        return attr_equals(s, a.name, a.value);
    case Atom::Kind::attr_prefix: {
        const std::string* v = first_attr(s, a.name);
        return v != nullptr && v->starts_with(a.value);
    }
    case Atom::Kind::attr_present:
        return first_attr(s, a.name) != nullptr;
    case Atom::Kind::child_attr_eq:
        return std::any_of(s.children().begin(), s.children().end(), [&](const Node& c) {
            return element_matches(c, a.test) && attr_equals(c, a.name, a.value);
        });
    case Atom::Kind::child_text_eq:
    case Atom::Kind::child_text_prefix: {
        std::string buffer;
        return std::any_of(s.children().begin(), s.children().end(), [&](const Node& c) {
            if (!element_matches(c, a.test))
                return false;
            const std::string_view v = string_value(c, buffer);
            return a.kind == Atom::Kind::child_text_eq ? v == a.value : v.starts_with(a.value);
        });
    }
    }
    return true;
}

// -- keys ----------------------------------------------------------------------------------------

std::uint64_t mix(std::uint64_t h, std::string_view s) {
    h ^= std::hash<std::string_view>{}(s) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

// An empty part is not hashed (most keys have one or two parts, and a child's name is looked up
// for every child of every stanza); a key shared by two atoms only adds candidates, which their
// conditions then rule out.
std::uint64_t key(char kind, std::string_view a, std::string_view b = {}, std::string_view c = {}) {
    std::uint64_t h = mix(static_cast<unsigned char>(kind), a);
    if (!b.empty())
        h = mix(h, b);
    if (!c.empty())
        h = mix(h + 1, c);
    return h;
}

std::uint64_t key_of(const Atom& a) {
    switch (a.kind) {
    case Atom::Kind::root:
        return key('R', a.test.local);
    case Atom::Kind::child:
        return a.test.ns == ElemTest::Ns::uri ? key('N', a.test.local, a.test.uri)
                                              : key('C', a.test.local);
    case Atom::Kind::attr_eq:
        return key('A', a.name, a.value);
    case Atom::Kind::attr_prefix:
        return key('P', a.name, a.value);
    case Atom::Kind::attr_present:
        return key('H', a.name);
    case Atom::Kind::child_attr_eq:
        return key('D', a.test.local, a.name, a.value);
    case Atom::Kind::child_text_eq:
        return key('X', a.test.local, a.value, a.test.uri);
    case Atom::Kind::child_text_prefix:
        return key('Y', a.test.local, a.value, a.test.uri);
    }
    return 0;
}

void add_name(std::vector<std::string>& names, const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end())
        names.push_back(name);
}

using Lengths = std::vector<std::pair<std::string, std::vector<std::size_t>>>;

void add_length(Lengths& lengths, const std::string& name, std::size_t length) {
    auto it = std::find_if(lengths.begin(), lengths.end(),
                           [&](const auto& p) { return p.first == name; });
    if (it == lengths.end())
        it = lengths.insert(lengths.end(), {name, {}});
    if (std::find(it->second.begin(), it->second.end(), length) == it->second.end())
        it->second.push_back(length);
}

const std::vector<std::size_t>* lengths_of(const Lengths& lengths, std::string_view name) {
    for (const auto& [n, l] : lengths)
        if (n == name)
            return &l;
    return nullptr;
}

bool listed(const std::vector<std::string>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

} // namespace

bool plain_stanza(const Node& stanza) {
    return plain_element(stanza);
}

namespace {

// The prefix is "xml" or "xmlns" (the name of a parsed element is a well-formed QName).
bool reserved_prefix(std::string_view name) {
    return name.size() > 4 && name.compare(0, 3, "xml") == 0 &&
           (name[3] == ':' || (name.size() > 6 && name.compare(3, 3, "ns:") == 0));
}

bool plain_parsed_element(const Node& e) {
    if (reserved_prefix(e.name()) && !is_content_ns(e.ns()))
        return false;
    for (const Node& c : e.children())
        if (!c.is_text() && !plain_parsed_element(c))
            return false;
    return true;
}

} // namespace

bool plain_parsed_stanza(const Node& stanza) {
    return plain_parsed_element(stanza);
}

bool holds(const Cond& cond, const Node& stanza) {
    switch (cond.kind) {
    case Cond::Kind::yes:
        return true;
    case Cond::Kind::atom:
        return holds(cond.atom, stanza);
    case Cond::Kind::all:
        return std::all_of(cond.kids.begin(), cond.kids.end(),
                           [&](const Cond& k) { return holds(k, stanza); });
    case Cond::Kind::any:
        return std::any_of(cond.kids.begin(), cond.kids.end(),
                           [&](const Cond& k) { return holds(k, stanza); });
    }
    return true;
}

void FilterIndex::add(std::uint32_t id, const Plan& plan) {
    if (plan.keys.empty()) {
        always_.push_back(id);
        return;
    }
    for (const Atom& a : plan.keys) {
        std::vector<std::uint32_t>& ids = keys_[key_of(a)];
        if (ids.empty() || ids.back() != id)
            ids.push_back(id);
        switch (a.kind) {
        case Atom::Kind::root:
            root_ = true;
            break;
        case Atom::Kind::child:
            child_ = true;
            add_name(child_names_, a.test.local);
            break;
        case Atom::Kind::attr_eq:
            add_name(eq_names_, a.name);
            break;
        case Atom::Kind::attr_present:
            add_name(present_names_, a.name);
            break;
        case Atom::Kind::child_attr_eq:
            add_name(child_attr_names_, a.name);
            break;
        case Atom::Kind::attr_prefix:
            add_length(prefix_lengths_, a.name, a.value.size());
            break;
        case Atom::Kind::child_text_eq:
            add_name(text_names_, a.test.local);
            break;
        case Atom::Kind::child_text_prefix:
            add_length(text_prefix_lengths_, a.test.local, a.value.size());
            break;
        }
    }
}

void FilterIndex::hit(std::uint64_t k, std::vector<std::uint32_t>& out) const {
    if (auto it = keys_.find(k); it != keys_.end())
        out.insert(out.end(), it->second.begin(), it->second.end());
}

// A child's string value under the keys of the text atoms that name it: its whole value, and each
// prefix length a filter looks for.
void FilterIndex::text_hits(const Node& c, std::string& buffer,
                            std::vector<std::uint32_t>& out) const {
    const std::string_view local = c.local_name();
    const bool equal = listed(text_names_, local);
    const std::vector<std::size_t>* lengths = lengths_of(text_prefix_lengths_, local);
    if (!equal && lengths == nullptr)
        return;
    const std::string_view ns = is_content_ns(c.ns()) ? std::string_view() : c.ns();
    const std::string_view v = string_value(c, buffer);
    if (equal)
        hit(key('X', local, v, ns), out);
    if (lengths != nullptr)
        for (std::size_t len : *lengths)
            if (len <= v.size())
                hit(key('Y', local, v.substr(0, len), ns), out);
}

void FilterIndex::candidates(const Node& s, std::vector<std::uint32_t>& out) const {
    out.assign(always_.begin(), always_.end());
    if (root_)
        hit(key('R', s.local_name()), out);
    const bool texts = !text_names_.empty() || !text_prefix_lengths_.empty();
    if (child_ || !child_attr_names_.empty() || texts) {
        std::string buffer;
        for (const Node& c : s.children()) {
            if (c.is_text())
                continue;
            // A few names compared cost less than a hash and a look-up per child.
            if (child_ && listed(child_names_, c.local_name()))
                hit(is_content_ns(c.ns()) ? key('C', c.local_name())
                                          : key('N', c.local_name(), c.ns()),
                    out);
            for (const auto& [n, v] : c.attributes())
                if (listed(child_attr_names_, n))
                    hit(key('D', c.local_name(), n, v), out);
            if (texts)
                text_hits(c, buffer, out);
        }
    }
    for (const auto& [n, v] : s.attributes()) {
        if (listed(eq_names_, n))
            hit(key('A', n, v), out);
        if (listed(present_names_, n))
            hit(key('H', n), out);
        if (const std::vector<std::size_t>* lengths = lengths_of(prefix_lengths_, n))
            for (std::size_t len : *lengths)
                if (len <= v.size())
                    hit(key('P', n, std::string_view(v).substr(0, len)), out);
    }
    if (out.size() > always_.size()) {
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
    }
}

} // namespace pcj::detail
