// Node: the element value type, its serialisation and Node::parse (libxml2 tree converted once).
#include "pcj/node.hpp"

#include <algorithm>
#include <climits>
#include <memory>
#include <string>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlstring.h>

#include "node_access.hpp"
#include "pcj/error.hpp"

namespace pcj {

namespace detail {

// The namespaces nearly every stanza is built with: shared without an allocation.
std::shared_ptr<const std::string> shared_ns(std::string ns) {
    static const std::shared_ptr<const std::string> common[] = {
        std::make_shared<const std::string>("jabber:client"),
        std::make_shared<const std::string>("jabber:server"),
        std::make_shared<const std::string>("jabber:component:accept"),
        std::make_shared<const std::string>("http://etherx.jabber.org/streams"),
    };
    if (ns.empty())
        return nullptr;
    for (const auto& c : common) {
        if (*c == ns)
            return c;
    }
    return std::make_shared<const std::string>(std::move(ns));
}

} // namespace detail

Node::Node(std::string name, std::string ns)
    : name_(std::move(name)), ns_(detail::shared_ns(std::move(ns))) {}

const std::string& Node::no_ns() {
    static const std::string empty;
    return empty;
}

void Node::set_ns(std::string ns) {
    ns_ = detail::shared_ns(std::move(ns));
}

Node Node::text_node(std::string text) {
    Node n;
    n.is_text_ = true;
    n.text_ = std::move(text);
    return n;
}

namespace {

// What an NCName starts with: XML 1.0 (fifth edition) NameStartChar without ':', the rule
// libxml2 applies unless XML_PARSE_OLD10 is set (pcj never sets it).
bool ncname_start(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xF6) || (c >= 0xF8 && c <= 0x2FF) ||
           (c >= 0x370 && c <= 0x37D) || (c >= 0x37F && c <= 0x1FFF) ||
           (c >= 0x200C && c <= 0x200D) || (c >= 0x2070 && c <= 0x218F) ||
           (c >= 0x2C00 && c <= 0x2FEF) || (c >= 0x3001 && c <= 0xD7FF) ||
           (c >= 0xF900 && c <= 0xFDCF) || (c >= 0xFDF0 && c <= 0xFFFD) ||
           (c >= 0x10000 && c <= 0xEFFFF);
}

// The colon that ends a prefix, or npos: the split libxml2's xmlParseQName makes, so that a
// name means to Node what it meant to the parser that read it. libxml2 splits at the first
// colon only when that colon is not first and an NCName starts right after it: ":a", "a:",
// "a::", "a::b" and "a:1b" are unprefixed names (in the default namespace), while "a:b:c" is
// prefix "a" with local name "b:c". Writing an unprefixed name declares its namespace, so each
// of them keeps it on a round trip.
std::size_t prefix_colon(std::string_view n) {
    const auto colon = n.find(':');
    if (colon == 0 || colon == std::string_view::npos || colon + 1 >= n.size())
        return std::string_view::npos;
    int len = static_cast<int>(std::min<std::size_t>(n.size() - colon - 1, 4));
    const int next =
        xmlGetUTF8Char(reinterpret_cast<const unsigned char*>(n.data() + colon + 1), &len);
    return ncname_start(next) ? colon : std::string_view::npos;
}

} // namespace

std::string_view Node::local_name() const {
    std::string_view n = name_;
    auto colon = prefix_colon(n);
    return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

std::string_view Node::prefix() const {
    std::string_view n = name_;
    auto colon = prefix_colon(n);
    return colon == std::string_view::npos ? std::string_view{} : n.substr(0, colon);
}

// -- attributes ----------------------------------------------------------------------------

const std::string* Node::find_attr(std::string_view name) const {
    for (const auto& a : attrs_) {
        if (a.first == name)
            return &a.second;
    }
    return nullptr;
}

std::string Node::attr(std::string_view name) const {
    const std::string* v = find_attr(name);
    return v ? *v : std::string{};
}

Node& Node::set_attr(std::string_view name, std::string value) {
    for (auto& a : attrs_) {
        if (a.first == name) {
            a.second = std::move(value);
            return *this;
        }
    }
    attrs_.emplace_back(std::string(name), std::move(value));
    return *this;
}

bool Node::remove_attr(std::string_view name) {
    auto it = std::find_if(attrs_.begin(), attrs_.end(),
                           [name](const Attribute& a) { return a.first == name; });
    if (it == attrs_.end())
        return false;
    attrs_.erase(it);
    return true;
}

// -- children ------------------------------------------------------------------------------

// Adjacent text children are merged, so that a node built piecewise compares equal to the same
// XML parsed (a parser never produces two text nodes side by side).
Node& Node::add_child(Node child) {
    if (child.is_text_ && !children_.empty() && children_.back().is_text_) {
        children_.back().text_.append(child.text_);
        return children_.back();
    }
    children_.push_back(std::move(child));
    return children_.back();
}

Node& Node::add_child(std::string name, std::string ns) {
    children_.emplace_back(std::move(name), std::move(ns));
    return children_.back();
}

Node& Node::add_text(std::string_view text) {
    if (text.empty())
        return *this;
    if (!children_.empty() && children_.back().is_text_)
        children_.back().text_.append(text);
    else
        children_.push_back(text_node(std::string(text)));
    return *this;
}

const Node* Node::child(std::string_view name, std::string_view ns) const {
    for (const auto& c : children_) {
        if (!c.is_text_ && c.name_ == name && (ns.empty() || c.ns() == ns))
            return &c;
    }
    return nullptr;
}

Node* Node::child(std::string_view name, std::string_view ns) {
    return const_cast<Node*>(static_cast<const Node*>(this)->child(name, ns));
}

std::vector<const Node*> Node::elements() const {
    std::vector<const Node*> out;
    for (const auto& c : children_) {
        if (!c.is_text_)
            out.push_back(&c);
    }
    return out;
}

std::string Node::text() const {
    if (is_text_)
        return text_;
    std::string out;
    for (const auto& c : children_) {
        if (c.is_text_)
            out += c.text_;
    }
    return out;
}

Node& Node::set_text(std::string text) {
    children_.clear();
    if (!text.empty())
        children_.push_back(text_node(std::move(text)));
    return *this;
}

// -- serialisation -------------------------------------------------------------------------

namespace {

// Text and attribute values alike: the five special characters, and a carriage return, which a
// parser would otherwise turn into a line feed. In an attribute value a parser also turns tabs
// and line feeds into spaces, so there they are written as references too.
template <bool Attribute> void escape(std::string& out, std::string_view text) {
    const char* run = text.data();
    const char* const end = run + text.size();
    for (const char* p = run; p != end; ++p) {
        std::string_view rep;
        switch (*p) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        case '\r':
            rep = "&#13;";
            break;
        case '\n':
            if (!Attribute)
                continue;
            rep = "&#10;";
            break;
        case '\t':
            if (!Attribute)
                continue;
            rep = "&#9;";
            break;
        default:
            continue;
        }
        out.append(run, p);
        out.append(rep);
        run = p + 1;
    }
    out.append(run, end);
}

} // namespace

void append_escaped(std::string& out, std::string_view text) {
    escape<false>(out, text);
}

void append_attribute_escaped(std::string& out, std::string_view text) {
    escape<true>(out, text);
}

namespace {

// Writes `<name attrs…` (no closing bracket) and returns the default namespace the element's
// children inherit. An unprefixed element with a namespace declares it when it differs from the
// inherited one, and any explicit "xmlns" attribute is then dropped as stale. Otherwise an
// explicit "xmlns" attribute (a stream header, or a node built the PCJ way with
// attr("xmlns", …)) is written as given and is what the children inherit on the wire.
std::string_view open_tag(const Node& n, std::string& out, std::string_view inherited) {
    out.push_back('<');
    out.append(n.name());
    std::string_view child_ns = inherited;
    bool declared = false;
    if (n.prefix().empty() && !n.ns().empty()) {
        declared = true;
        child_ns = n.ns();
        if (n.ns() != inherited) {
            out.append(" xmlns=\"");
            append_attribute_escaped(out, n.ns());
            out.push_back('"');
        }
    }
    for (const auto& [name, value] : n.attributes()) {
        if (name == "xmlns") {
            if (declared)
                continue;
            child_ns = value;
        }
        out.push_back(' ');
        out.append(name);
        out.append("=\"");
        append_attribute_escaped(out, value);
        out.push_back('"');
    }
    return child_ns;
}

} // namespace

void Node::append_to(std::string& out, std::string_view inherited_ns) const {
    if (is_text_) {
        append_escaped(out, text_);
        return;
    }
    std::string_view child_ns = open_tag(*this, out, inherited_ns);
    if (children_.empty()) {
        out.append("/>");
        return;
    }
    out.push_back('>');
    for (const auto& c : children_)
        c.append_to(out, child_ns);
    out.append("</");
    out.append(name_);
    out.push_back('>');
}

std::string Node::to_string(std::string_view inherited_ns) const {
    std::string out;
    out.reserve(256);
    append_to(out, inherited_ns);
    return out;
}

std::string Node::start_tag(std::string_view inherited_ns) const {
    std::string out;
    if (is_text_)
        return out;
    out.reserve(128);
    open_tag(*this, out, inherited_ns);
    out.push_back('>');
    return out;
}

bool operator==(const Node& a, const Node& b) {
    if (a.is_text_ != b.is_text_)
        return false;
    if (a.is_text_)
        return a.text_ == b.text_;
    if (a.name_ != b.name_ || a.ns() != b.ns() || a.attrs_.size() != b.attrs_.size())
        return false;
    // Attribute order carries no meaning in XML; names are unique within an element.
    for (const auto& [name, value] : a.attrs_) {
        const std::string* other = b.find_attr(name);
        if (!other || *other != value)
            return false;
    }
    return a.children_ == b.children_;
}

// -- parsing -------------------------------------------------------------------------------

namespace {

std::string to_str(const xmlChar* s) {
    return s ? std::string(reinterpret_cast<const char*>(s)) : std::string{};
}

std::string qualified(const xmlChar* prefix, const xmlChar* local) {
    std::string out;
    if (prefix) {
        out = to_str(prefix);
        out.push_back(':');
    }
    out.append(reinterpret_cast<const char*>(local));
    return out;
}

// Why parsing was refused by one of the handlers below; reached through ctxt->_private.
struct Refusal {
    std::string why;
};

void refuse(void* ctx, const char* why) {
    auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
    if (auto* r = static_cast<Refusal*>(ctxt->_private); r && r->why.empty())
        r->why = why;
    xmlStopParser(ctxt);
}

void on_internal_subset(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
    refuse(ctx, "a DTD is not allowed");
}

void on_entity_decl(void* ctx, const xmlChar*, int, const xmlChar*, const xmlChar*, xmlChar*) {
    refuse(ctx, "an entity declaration is not allowed");
}

void on_pi(void* ctx, const xmlChar*, const xmlChar*) {
    refuse(ctx, "a processing instruction is not allowed");
}

std::string attr_value(const xmlAttr* a) {
    std::string out;
    for (const xmlNode* t = a->children; t; t = t->next) {
        if (t->content)
            out.append(reinterpret_cast<const char*>(t->content));
    }
    return out;
}

// libxml2 bounds the depth of what it parses (256 without XML_PARSE_HUGE), so recursion is
// bounded too.
Node convert(const xmlNode* el) {
    Node n(qualified(el->ns ? el->ns->prefix : nullptr, el->name),
           el->ns ? detail::unescape_amp(to_str(el->ns->href)) : std::string{});
    for (const xmlAttr* a = el->properties; a; a = a->next)
        n.set_attr(qualified(a->ns ? a->ns->prefix : nullptr, a->name), attr_value(a));
    // The default namespace declaration is ns(); prefix declarations stay as attributes.
    for (const xmlNs* d = el->nsDef; d; d = d->next) {
        if (d->prefix)
            n.set_attr("xmlns:" + to_str(d->prefix), detail::unescape_amp(to_str(d->href)));
        else if (d->href == nullptr || *d->href == 0)
            n.set_attr("xmlns", ""); // xmlns='': no namespace, not the parent's (kept to write)
    }
    for (const xmlNode* c = el->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            n.add_child(convert(c));
        else if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
            n.add_text(reinterpret_cast<const char*>(c->content));
    }
    return n;
}

std::string trimmed_message(xmlParserCtxtPtr ctxt) {
    const xmlError* e = xmlCtxtGetLastError(ctxt);
    std::string msg = e && e->message ? e->message : "not well-formed";
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    while (!msg.empty() && msg.back() == ' ')
        msg.pop_back();
    return msg;
}

struct CtxtDeleter {
    void operator()(xmlParserCtxtPtr c) const {
        if (c->myDoc)
            xmlFreeDoc(c->myDoc);
        c->myDoc = nullptr;
        xmlFreeParserCtxt(c);
    }
};

} // namespace

Node Node::parse(std::string_view xml) {
    if (xml.size() > static_cast<std::size_t>(INT_MAX))
        throw ParseError("document too large");
    std::unique_ptr<xmlParserCtxt, CtxtDeleter> ctxt(
        xmlCreateMemoryParserCtxt(xml.data(), static_cast<int>(xml.size())));
    if (!ctxt)
        throw ParseError(xml.empty() ? "Document is empty" : "cannot create an XML parser");
    // No network, no DTD loading, no entity substitution, no XML_PARSE_HUGE; errors are read
    // from the context instead of being printed.
    xmlCtxtUseOptions(ctxt.get(), XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                      XML_PARSE_IGNORE_ENC);
    Refusal refusal;
    ctxt->_private = &refusal;
    ctxt->sax->internalSubset = on_internal_subset;
    ctxt->sax->externalSubset = on_internal_subset;
    ctxt->sax->entityDecl = on_entity_decl;
    ctxt->sax->processingInstruction = on_pi;
    xmlParseDocument(ctxt.get());
    if (!refusal.why.empty())
        throw ParseError(refusal.why);
    if (!ctxt->wellFormed || !ctxt->myDoc)
        throw ParseError(trimmed_message(ctxt.get()));
    const xmlNode* root = xmlDocGetRootElement(ctxt->myDoc);
    if (!root)
        throw ParseError("no element");
    return convert(root);
}

} // namespace pcj
