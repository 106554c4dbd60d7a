// The libxml2 side of FilterSet: documents from stanzas, results back, errors collected.
//
// libxml2 reports errors through callbacks and, failing those, prints to stderr. While pcj
// calls into libxml2 the thread's global handlers are swapped for ones that only collect the
// text; the callbacks never throw.
#include "xpath_engine.hpp"

#include <libxml/xmlerror.h>
#include <libxml/xpathInternals.h>

#include <cstdarg>
#include <cstdio>
#include <new>
#include <string_view>

namespace pcj::detail::xp {

const xmlChar* xml_str(const char* s) {
    return reinterpret_cast<const xmlChar*>(s);
}
const xmlChar* xml_str(const std::string& s) {
    return xml_str(s.c_str());
}

namespace {

// Bounds the work of one evaluation, so that a pathological expression on a large stanza ends
// as "no match" instead of stalling the loop. Ordinary filters need a few hundred steps.
constexpr unsigned long kOpLimit = 5'000'000;

std::string from_xml(const xmlChar* s) {
    return s == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(s));
}

// -- error capture ---------------------------------------------------------------------------

void append_message(std::string* sink, std::string_view text) noexcept {
    if (sink == nullptr)
        return;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.remove_suffix(1);
    try {
        if (!sink->empty() && !text.empty())
            *sink += "; ";
        *sink += text;
    } catch (...) { // nothing may cross back into libxml2
    }
}

// The error pointer's constness changed in libxml2 2.12; take whatever this version passes.
template <typename> struct SecondArg;
template <typename R, typename A, typename B> struct SecondArg<R (*)(A, B)> { using type = B; };
using ErrorArg = SecondArg<xmlStructuredErrorFunc>::type;

void collect_structured(void* data, ErrorArg error) noexcept {
    if (error == nullptr)
        return;
    std::string* sink = static_cast<std::string*>(data);
    append_message(sink, error->message != nullptr ? error->message : "XPath error");
    if (error->domain == XML_FROM_XPATH && error->str1 != nullptr) {
        char where[48];
        std::snprintf(where, sizeof where, " at offset %d", error->int1);
        try {
            if (sink != nullptr)
                *sink += where;
        } catch (...) {
        }
    }
}

__attribute__((format(printf, 2, 3))) void collect_generic(void* data, const char* msg,
                                                           ...) noexcept {
    char text[512];
    va_list args;
    va_start(args, msg);
    const int n = std::vsnprintf(text, sizeof text, msg, args);
    va_end(args);
    if (n > 0)
        append_message(static_cast<std::string*>(data), text);
}

// Routes the thread's global libxml2 error handlers to `sink` for its lifetime, then puts the
// previous ones back (the XML stream parser may rely on its own).
class QuietErrors {
public:
    explicit QuietErrors(std::string* sink)
        : structured_(xmlStructuredError), structured_ctx_(xmlStructuredErrorContext),
          generic_(xmlGenericError), generic_ctx_(xmlGenericErrorContext) {
        xmlSetStructuredErrorFunc(sink, &collect_structured);
        xmlSetGenericErrorFunc(sink, &collect_generic);
    }
    ~QuietErrors() {
        xmlSetStructuredErrorFunc(structured_ctx_, structured_);
        xmlSetGenericErrorFunc(generic_ctx_, generic_);
    }
    QuietErrors(const QuietErrors&) = delete;
    QuietErrors& operator=(const QuietErrors&) = delete;

private:
    xmlStructuredErrorFunc structured_;
    void* structured_ctx_;
    xmlGenericErrorFunc generic_;
    void* generic_ctx_;
};

// -- stanza → libxml2 document ---------------------------------------------------------------

bool is_content_ns(std::string_view ns) {
    return ns.empty() || ns == "jabber:client" || ns == "jabber:server" ||
           ns == "jabber:component:accept";
}

std::string_view prefix_of(std::string_view qname) {
    const auto colon = qname.find(':');
    return colon == std::string_view::npos ? std::string_view() : qname.substr(0, colon);
}

std::string_view local_of(std::string_view qname) {
    const auto colon = qname.find(':');
    return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

// The namespace `uri` under `prefix` (empty: the default one) as seen from `node`, declared on
// the node when nothing in scope fits. May return null on conflicting declarations.
xmlNs* namespace_for(xmlNode* node, const std::string& prefix, const std::string& uri) {
    const xmlChar* p = prefix.empty() ? nullptr : xml_str(prefix);
    xmlNs* ns = xmlSearchNs(node->doc, node, p);
    if (ns != nullptr && xmlStrEqual(ns->href, xml_str(uri)))
        return ns;
    ns = xmlNewNs(node, xml_str(uri), p);
    return ns != nullptr ? ns : xmlSearchNsByHref(node->doc, node, xml_str(uri));
}

void declare_prefixes(xmlNode* node, const Node& src) {
    for (const auto& [name, value] : src.attributes()) {
        if (name.starts_with("xmlns:") && name.size() > 6 && !value.empty())
            xmlNewNs(node, xml_str(value), xml_str(name.c_str() + 6));
    }
}

// Declarations stay out of the attribute axis, as in the XPath data model.
void add_attributes(xmlNode* node, const Node& src) {
    for (const auto& [name, value] : src.attributes()) {
        if (name == "xmlns" || name.starts_with("xmlns:"))
            continue;
        const std::string prefix(prefix_of(name));
        xmlNs* ns = prefix.empty() ? nullptr : xmlSearchNs(node->doc, node, xml_str(prefix));
        if (ns != nullptr)
            xmlNewNsProp(node, ns, xml_str(std::string(local_of(name))), xml_str(value));
        else
            xmlNewProp(node, xml_str(name), xml_str(value));
    }
}

xmlNode* add_element(xmlDoc* doc, xmlNode* parent, const Node& src);

void add_children(xmlDoc* doc, xmlNode* node, const Node& src) {
    for (const Node& child : src.children()) {
        if (!child.is_text()) {
            add_element(doc, node, child);
            continue;
        }
        const std::string text = child.text();
        if (text.empty())
            continue;
        xmlNode* t = xmlNewDocTextLen(doc, xml_str(text), static_cast<int>(text.size()));
        if (t != nullptr && xmlAddChild(node, t) == nullptr)
            xmlFreeNode(t);
    }
}

// Recursion follows the stanza's depth, which the stream parser bounds.
xmlNode* add_element(xmlDoc* doc, xmlNode* parent, const Node& src) {
    if (src.empty())
        return nullptr;
    const std::string local(local_of(src.name()));
    xmlNode* node = xmlNewDocNode(doc, nullptr, xml_str(local), nullptr);
    if (node == nullptr)
        return nullptr;
    node->_private = const_cast<Node*>(&src); // read back only, never written through
    if (parent == nullptr) {
        xmlDocSetRootElement(doc, node);
    } else if (xmlAddChild(parent, node) == nullptr) {
        xmlFreeNode(node);
        return nullptr;
    }
    declare_prefixes(node, src);
    if (!is_content_ns(src.ns()))
        xmlSetNs(node, namespace_for(node, std::string(prefix_of(src.name())), src.ns()));
    add_attributes(node, src);
    add_children(doc, node, src);
    return node;
}

DocPtr build_document(const Node& stanza) {
    DocPtr doc(xmlNewDoc(xml_str("1.0")));
    if (!doc || add_element(doc.get(), nullptr, stanza) == nullptr)
        return nullptr;
    return doc;
}

} // namespace

DocPtr stanza_document(const Node& stanza) {
    QuietErrors quiet(nullptr); // only an allocation failure could complain here
    return build_document(stanza);
}

namespace {
// -- libxml2 result → pcj::Node --------------------------------------------------------------

Node content_node(const xmlNode* n) {
    xmlChar* content = xmlNodeGetContent(n);
    Node out = Node::text_node(from_xml(content));
    xmlFree(content);
    return out;
}

} // namespace

Node to_node(const xmlNode* n, const Node& stanza) {
    switch (n->type) {
    case XML_ELEMENT_NODE:
        if (n->_private != nullptr)
            return *static_cast<const Node*>(n->_private);
        return Node(from_xml(n->name));
    case XML_DOCUMENT_NODE:
        return stanza;       // "/" selects the document, which stands for the stanza
    case XML_NAMESPACE_DECL: // an xmlNs in disguise: only href is meaningful
        return Node::text_node(from_xml(reinterpret_cast<const xmlNs*>(n)->href));
    default:
        return content_node(n);
    }
}

// The context's own error callback is left unset on purpose: libxml2 2.9 hands it an xmlError
// without the message text, while the global structured handler gets the text.
Engine::Engine() : ctx(xmlXPathNewContext(nullptr)) {
    if (!ctx)
        throw std::bad_alloc();
}

CompPtr Engine::compile(const std::string& xpath) {
    errors.clear();
    QuietErrors quiet(&errors);
    return CompPtr(xmlXPathCtxtCompile(ctx.get(), xml_str(xpath)));
}

ObjectPtr Engine::run(xmlXPathCompExpr* comp, xmlDoc* doc) {
    errors.clear();
    ctx->doc = doc;
    ctx->node = xmlDocGetRootElement(doc);
    ctx->opLimit = kOpLimit;
    ctx->opCount = 0;
    ctx->depth = 0;
    QuietErrors quiet(&errors);
    ObjectPtr result(xmlXPathCompiledEval(comp, ctx.get()));
    ctx->doc = nullptr;
    ctx->node = nullptr;
    return result;
}

} // namespace pcj::detail::xp
