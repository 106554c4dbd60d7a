// FilterSet: XPath 1.0 filters compiled by libxml2 and evaluated against each stanza as a document.
//
// Each evaluate() turns the stanza into a small libxml2 document whose root element is the stanza
// and which is also the context node, so both "/message[@type='chat']" and PCJ's relative forms
// ("self::message", "body") work. Every libxml2 element remembers (in _private) the pcj::Node it
// was built from, so a selected element is handed back as a copy of the original subtree.
//
// libxml2 reports errors through callbacks and, failing those, prints to stderr. The XPath
// context gets its own structured error callback, and while pcj calls into libxml2 the
// thread's global handlers are swapped for ones that only collect the text; the callbacks never
// throw. The filter list is copy-on-write, so a fire() that adds or removes filters does not
// disturb the evaluation in progress.
#include "xpath.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include <cstdarg>
#include <cstdio>
#include <set>
#include <utility>
#include <vector>

#include "pcj/error.hpp"

namespace pcj::detail {

namespace {

// Bounds the work of one evaluation, so that a pathological expression on a large stanza ends
// as "no match" instead of stalling the loop. Ordinary filters need a few hundred steps.
constexpr unsigned long kOpLimit = 5'000'000;

struct DocFree {
    void operator()(xmlDoc* doc) const noexcept { xmlFreeDoc(doc); }
};
struct ObjectFree {
    void operator()(xmlXPathObject* obj) const noexcept { xmlXPathFreeObject(obj); }
};
struct CompFree {
    void operator()(xmlXPathCompExpr* comp) const noexcept { xmlXPathFreeCompExpr(comp); }
};
struct ContextFree {
    void operator()(xmlXPathContext* ctx) const noexcept { xmlXPathFreeContext(ctx); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;
using ObjectPtr = std::unique_ptr<xmlXPathObject, ObjectFree>;
using CompPtr = std::unique_ptr<xmlXPathCompExpr, CompFree>;
using ContextPtr = std::unique_ptr<xmlXPathContext, ContextFree>;

const xmlChar* xml_str(const char* s) {
    return reinterpret_cast<const xmlChar*>(s);
}
const xmlChar* xml_str(const std::string& s) {
    return xml_str(s.c_str());
}
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

// -- libxml2 result → pcj::Node --------------------------------------------------------------

Node content_node(const xmlNode* n) {
    xmlChar* content = xmlNodeGetContent(n);
    Node out = Node::text_node(from_xml(content));
    xmlFree(content);
    return out;
}

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

// -- static checks on an expression ----------------------------------------------------------

bool is_name_start(char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u >= 0x80;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_name_char(char c) {
    return is_name_start(c) || is_digit(c) || c == '.' || c == '-';
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// The names an expression refers to: every prefix, and the functions it calls.
struct NamesUsed {
    std::vector<std::string> prefixes;
    std::vector<std::string> functions;
};

// Reads a QName (or prefix:*) at i, records its prefix, and returns where it ends.
std::size_t scan_qname(std::string_view s, std::size_t i, NamesUsed& used) {
    std::size_t end = i;
    while (end < s.size() && is_name_char(s[end]))
        ++end;
    if (end + 1 >= s.size() || s[end] != ':' || s[end + 1] == ':')
        return end; // unprefixed, or an axis name before "::"
    used.prefixes.emplace_back(s.substr(i, end - i));
    if (s[end + 1] == '*')
        return end + 2;
    for (++end; end < s.size() && is_name_char(s[end]);)
        ++end;
    return end;
}

// Classifies one punctuation or operator token at i; returns its length.
enum class Prev { none, opener, op, operand }; // opener: @ :: ( [ ,
std::size_t scan_symbol(std::string_view s, std::size_t i, Prev& prev) {
    const std::string_view two = s.substr(i, 2);
    if (two == "::") {
        prev = Prev::opener;
        return 2;
    }
    if (two == "..") {
        prev = Prev::operand;
        return 2;
    }
    if (two == "//" || two == "!=" || two == "<=" || two == ">=") {
        prev = Prev::op;
        return 2;
    }
    switch (s[i]) {
    case '(':
    case '[':
    case ',':
    case '@':
        prev = Prev::opener;
        break;
    case ')':
    case ']':
    case '.':
        prev = Prev::operand;
        break;
    case '*': // a name test where a name may stand, else multiplication
        prev = prev == Prev::operand ? Prev::op : Prev::operand;
        break;
    default: // / | + - = < >
        prev = Prev::op;
        break;
    }
    return 1;
}

// Tokenises as XPath 1.0 §3.7 prescribes: a name right after an operand is an operator name
// (and, or, div, mod); a name before "(" is a node type or a function. libxml2 resolves
// prefixes and functions only while evaluating, and then only on the paths it takes, so add()
// checks them here.
NamesUsed names_used(std::string_view s) {
    NamesUsed used;
    Prev prev = Prev::none;
    std::size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (is_space(c)) {
            ++i;
        } else if (c == '\'' || c == '"') {
            const std::size_t close = s.find(c, i + 1);
            i = close == std::string_view::npos ? s.size() : close + 1;
            prev = Prev::operand;
        } else if (is_digit(c) || (c == '.' && i + 1 < s.size() && is_digit(s[i + 1]))) {
            while (i < s.size() && (is_digit(s[i]) || s[i] == '.'))
                ++i;
            prev = Prev::operand;
        } else if (c == '$') {
            i = scan_qname(s, i + 1, used);
            prev = Prev::operand;
        } else if (is_name_start(c) && prev == Prev::operand) {
            while (i < s.size() && is_name_char(s[i]))
                ++i;
            prev = Prev::op;
        } else if (is_name_start(c)) {
            const std::size_t end = scan_qname(s, i, used);
            const std::string_view name = s.substr(i, end - i);
            std::size_t next = end;
            while (next < s.size() && is_space(s[next]))
                ++next;
            const bool node_type = name == "node" || name == "text" || name == "comment" ||
                                   name == "processing-instruction";
            if (next < s.size() && s[next] == '(' && !node_type)
                used.functions.emplace_back(name);
            i = end;
            prev = Prev::operand;
        } else {
            i += scan_symbol(s, i, prev);
        }
    }
    return used;
}

struct Filter {
    std::string event;
    std::string xpath;
    CompPtr comp;
};
using FilterList = std::vector<std::shared_ptr<const Filter>>;

// The libxml2 side, shared with evaluations in progress so that they survive a fire() that
// destroys the FilterSet.
struct Engine {
    ContextPtr ctx;
    std::string errors; // filled through QuietErrors during each call into libxml2

    // The context's own error callback is left unset on purpose: libxml2 2.9 hands it an
    // xmlError without the message text, while the global structured handler gets the text.
    Engine() : ctx(xmlXPathNewContext(nullptr)) {
        if (!ctx)
            throw std::bad_alloc();
    }

    CompPtr compile(const std::string& xpath) {
        errors.clear();
        QuietErrors quiet(&errors);
        return CompPtr(xmlXPathCtxtCompile(ctx.get(), xml_str(xpath)));
    }

    // Null on an evaluation error (the reason is in errors).
    ObjectPtr run(xmlXPathCompExpr* comp, xmlDoc* doc) {
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
};

} // namespace

struct FilterSet::Impl {
    std::shared_ptr<const FilterList> filters = std::make_shared<FilterList>();
    // Made on first use: most components never add a filter, and an XPath context costs about
    // 12 KB — a quarter of an idle connection.
    std::shared_ptr<Engine> engine;
    std::set<std::string, std::less<>> prefixes;

    Engine& ensure_engine() {
        if (!engine)
            engine = std::make_shared<Engine>();
        return *engine;
    }

    [[noreturn]] static void fail(const std::string& xpath, std::string_view why) {
        throw XPathError("bad XPath expression \"" + xpath + "\": " + std::string(why));
    }

    // Every prefix must be bound and every function known (pcj registers no extensions).
    void check_names(const std::string& xpath) const {
        const NamesUsed used = names_used(xpath);
        for (const std::string& prefix : used.prefixes) {
            if (prefix != "xml" && !prefixes.contains(prefix))
                fail(xpath, "Undefined namespace prefix \"" + prefix +
                                "\" (bind it with ns_prefix first)");
        }
        for (const std::string& function : used.functions) {
            if (function.find(':') != std::string::npos ||
                xmlXPathFunctionLookup(engine->ctx.get(), xml_str(function)) == nullptr)
                fail(xpath, "Unregistered function \"" + function + "\"");
        }
    }

    // Runs the expression once against a one-element document, which reports what only an
    // evaluation finds (a wrong argument type at the top level, for example).
    void probe(const std::string& xpath, xmlXPathCompExpr* comp) const {
        DocPtr doc(xmlNewDoc(xml_str("1.0")));
        xmlNode* root =
            doc ? xmlNewDocNode(doc.get(), nullptr, xml_str("pcj-probe"), nullptr) : nullptr;
        if (root == nullptr)
            throw std::bad_alloc();
        xmlDocSetRootElement(doc.get(), root);
        if (!engine->run(comp, doc.get()))
            fail(xpath, engine->errors.empty() ? "evaluation failed" : engine->errors);
    }
};

FilterSet::FilterSet() : impl_(std::make_unique<Impl>()) {
    xmlInitParser();
}

FilterSet::~FilterSet() = default;

void FilterSet::add(std::string event, std::string xpath) {
    if (xpath.find('\0') != std::string::npos)
        Impl::fail(xpath, "contains a NUL character");
    CompPtr comp = impl_->ensure_engine().compile(xpath);
    if (!comp) {
        const std::string& why = impl_->engine->errors;
        Impl::fail(xpath, why.empty() ? "libxml2 could not compile it" : why);
    }
    impl_->check_names(xpath);
    impl_->probe(xpath, comp.get());
    auto next = std::make_shared<FilterList>(*impl_->filters);
    next->push_back(std::make_shared<const Filter>(
        Filter{std::move(event), std::move(xpath), std::move(comp)}));
    impl_->filters = std::move(next);
}

std::size_t FilterSet::remove(std::string_view event) {
    auto next = std::make_shared<FilterList>();
    for (const auto& filter : *impl_->filters)
        if (filter->event != event)
            next->push_back(filter);
    const std::size_t removed = impl_->filters->size() - next->size();
    if (removed > 0)
        impl_->filters = std::move(next);
    return removed;
}

void FilterSet::ns_prefix(std::string prefix, std::string uri) {
    if (prefix.empty() || prefix.find(':') != std::string::npos)
        throw XPathError("bad namespace prefix \"" + prefix + "\"");
    Engine& engine = impl_->ensure_engine();
    if (uri.empty()) {
        xmlXPathRegisterNs(engine.ctx.get(), xml_str(prefix), nullptr);
        impl_->prefixes.erase(prefix);
        return;
    }
    if (xmlXPathRegisterNs(engine.ctx.get(), xml_str(prefix), xml_str(uri)) != 0)
        throw std::bad_alloc();
    impl_->prefixes.insert(std::move(prefix));
}

bool FilterSet::empty() const {
    return impl_->filters->empty();
}

std::size_t FilterSet::size() const {
    return impl_->filters->size();
}

void FilterSet::evaluate(const Node& stanza, const Fire& fire) const {
    // Both snapshots keep working even if fire() changes or destroys this FilterSet.
    const std::shared_ptr<const FilterList> filters = impl_->filters;
    if (filters->empty() || stanza.empty() || stanza.is_text())
        return;
    const std::shared_ptr<Engine> engine = impl_->engine; // set: a filter was added
    DocPtr doc;
    {
        QuietErrors quiet(nullptr); // only an allocation failure could complain here
        doc = build_document(stanza);
    }
    if (!doc)
        return;
    std::vector<Node> matches;
    for (const auto& filter : *filters) {
        ObjectPtr result = engine->run(filter->comp.get(), doc.get());
        if (!result)
            continue; // an evaluation error is no match; add() already probed the expression
        if (result->type == XPATH_BOOLEAN && result->boolval != 0) {
            result.reset();
            fire(filter->event, filter->xpath, std::span<const Node>(&stanza, 1));
            continue;
        }
        const xmlNodeSet* set = result->type == XPATH_NODESET ? result->nodesetval : nullptr;
        if (set == nullptr || set->nodeNr <= 0)
            continue;
        matches.clear();
        matches.reserve(static_cast<std::size_t>(set->nodeNr));
        for (int i = 0; i < set->nodeNr; ++i)
            matches.push_back(to_node(set->nodeTab[i], stanza));
        result.reset();
        fire(filter->event, filter->xpath, matches);
    }
}

} // namespace pcj::detail
