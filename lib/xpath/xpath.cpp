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
// throw. The filter table is copy-on-write, so a fire() that adds or removes filters does not
// disturb the evaluation in progress.
//
// libxml2 decides every match. The pre-filter (xpath_index.hpp) only rules filters out: from
// each expression it derives what a stanza must have for it to fire, and an index over that
// names the few candidates for a stanza. The document is built once per stanza, and only when
// at least one candidate remains.
#include "xpath.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <utility>
#include <vector>

#include "pcj/error.hpp"
#include "xpath_index.hpp"

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
    std::shared_ptr<xmlXPathCompExpr> comp;
    std::vector<std::string> prefixes; // the plan depends on their bindings
    Plan plan;
};

// The filters and their index, copied on write only while an evaluation holds them.
struct FilterTable {
    std::vector<std::shared_ptr<const Filter>> list;
    FilterIndex index;

    void reindex() {
        index = FilterIndex();
        for (std::size_t i = 0; i < list.size(); ++i)
            index.add(static_cast<std::uint32_t>(i), list[i]->plan);
    }
};

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
    std::shared_ptr<FilterTable> table = std::make_shared<FilterTable>();
    // Made on first use: most components never add a filter, and an XPath context costs about
    // 12 KB — a quarter of an idle connection.
    std::shared_ptr<Engine> engine;
    PrefixMap prefixes;
    bool indexing = true;

    Engine& ensure_engine() {
        if (!engine)
            engine = std::make_shared<Engine>();
        return *engine;
    }

    // The table to change: a copy when an evaluation in progress still holds the current one.
    FilterTable& writable() {
        if (table.use_count() > 1)
            table = std::make_shared<FilterTable>(*table);
        return *table;
    }

    [[noreturn]] static void fail(const std::string& xpath, std::string_view why) {
        throw XPathError("bad XPath expression \"" + xpath + "\": " + std::string(why));
    }

    // Every prefix must be bound and every function known (pcj registers no extensions).
    void check_names(const std::string& xpath, const NamesUsed& used) const {
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

    // A prefix was bound, rebound or unbound: the plans that use it are made again.
    void replan(std::string_view prefix) {
        const FilterTable& current = *table;
        bool affected = false;
        for (const auto& f : current.list)
            affected = affected || std::find(f->prefixes.begin(), f->prefixes.end(), prefix) !=
                                       f->prefixes.end();
        if (!affected)
            return;
        FilterTable& t = writable();
        for (auto& f : t.list) {
            if (std::find(f->prefixes.begin(), f->prefixes.end(), prefix) == f->prefixes.end())
                continue;
            auto copy = std::make_shared<Filter>(*f);
            copy->plan = make_plan(copy->xpath, prefixes);
            f = std::move(copy);
        }
        t.reindex();
    }
};

namespace {

// libxml2's verdict on one filter. A single selected element is handed over as the stanza's own
// subtree (its xmlNode remembers it), the usual case; several are copied side by side.
void fire_libxml2(const Filter& filter, Engine& engine, xmlDoc* doc, const Node& stanza,
                  const FilterSet::Fire& fire) {
    ObjectPtr result = engine.run(filter.comp.get(), doc);
    if (!result)
        return; // an evaluation error is no match; add() already probed the expression
    if (result->type == XPATH_BOOLEAN && result->boolval != 0) {
        result.reset();
        fire(filter.event, filter.xpath, std::span<const Node>(&stanza, 1));
        return;
    }
    const xmlNodeSet* set = result->type == XPATH_NODESET ? result->nodesetval : nullptr;
    if (set == nullptr || set->nodeNr <= 0)
        return;
    const xmlNode* first = set->nodeTab[0];
    if (set->nodeNr == 1 && first->type == XML_ELEMENT_NODE && first->_private != nullptr) {
        const Node* own = static_cast<const Node*>(first->_private);
        result.reset();
        fire(filter.event, filter.xpath, std::span<const Node>(own, 1));
        return;
    }
    std::vector<Node> matches;
    matches.reserve(static_cast<std::size_t>(set->nodeNr));
    for (int i = 0; i < set->nodeNr; ++i)
        matches.push_back(to_node(set->nodeTab[i], stanza));
    result.reset();
    fire(filter.event, filter.xpath, matches);
}

DocPtr quiet_document(const Node& stanza) {
    QuietErrors quiet(nullptr); // only an allocation failure could complain here
    return build_document(stanza);
}

// Every filter through libxml2: stanzas the pre-filter cannot vouch for, and tests.
void evaluate_all(const FilterTable& table, Engine& engine, const Node& stanza,
                  const FilterSet::Fire& fire) {
    DocPtr doc = quiet_document(stanza);
    if (!doc)
        return;
    for (const auto& filter : table.list)
        fire_libxml2(*filter, engine, doc.get(), stanza, fire);
}

} // namespace

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
    NamesUsed used = names_used(xpath);
    impl_->check_names(xpath, used);
    impl_->probe(xpath, comp.get());
    auto filter = std::make_shared<Filter>();
    filter->event = std::move(event);
    filter->plan = make_plan(xpath, impl_->prefixes);
    filter->xpath = std::move(xpath);
    filter->comp = std::shared_ptr<xmlXPathCompExpr>(comp.release(), CompFree{});
    filter->prefixes = std::move(used.prefixes);
    FilterTable& t = impl_->writable();
    t.index.add(static_cast<std::uint32_t>(t.list.size()), filter->plan);
    t.list.push_back(std::move(filter));
}

std::size_t FilterSet::remove(std::string_view event) {
    const auto& list = impl_->table->list;
    const auto count = static_cast<std::size_t>(
        std::count_if(list.begin(), list.end(), [&](const auto& f) { return f->event == event; }));
    if (count == 0)
        return 0;
    FilterTable& t = impl_->writable();
    std::erase_if(t.list, [&](const auto& f) { return f->event == event; });
    t.reindex();
    return count;
}

void FilterSet::ns_prefix(std::string prefix, std::string uri) {
    if (prefix.empty() || prefix.find(':') != std::string::npos)
        throw XPathError("bad namespace prefix \"" + prefix + "\"");
    Engine& engine = impl_->ensure_engine();
    if (uri.empty()) {
        xmlXPathRegisterNs(engine.ctx.get(), xml_str(prefix), nullptr);
        if (impl_->prefixes.erase(prefix) > 0)
            impl_->replan(prefix);
        return;
    }
    if (xmlXPathRegisterNs(engine.ctx.get(), xml_str(prefix), xml_str(uri)) != 0)
        throw std::bad_alloc();
    auto [it, inserted] = impl_->prefixes.try_emplace(prefix, uri);
    if (!inserted && it->second == uri)
        return;
    it->second = std::move(uri);
    impl_->replan(prefix);
}

bool FilterSet::empty() const {
    return impl_->table->list.empty();
}

std::size_t FilterSet::size() const {
    return impl_->table->list.size();
}

void FilterSet::set_indexing(bool on) {
    impl_->indexing = on;
}

// Only the candidates the index names, and whose necessary condition holds, go to libxml2; the
// document is built for the first of them.
void FilterSet::evaluate(const Node& stanza, const Fire& fire) const {
    // Both snapshots keep working even if fire() changes or destroys this FilterSet.
    const std::shared_ptr<const FilterTable> table = impl_->table;
    if (table->list.empty() || stanza.empty() || stanza.is_text())
        return;
    const std::shared_ptr<Engine> engine = impl_->engine; // set: a filter was added
    if (!impl_->indexing || !plain_stanza(stanza)) {
        evaluate_all(*table, *engine, stanza, fire);
        return;
    }
    std::vector<std::uint32_t> candidates;
    table->index.candidates(stanza, candidates);
    DocPtr doc;
    bool doc_built = false;
    for (std::uint32_t id : candidates) {
        const Filter& filter = *table->list[id];
        if (!holds(filter.plan.cond, stanza))
            continue;
        if (!doc_built) {
            doc_built = true;
            doc = quiet_document(stanza);
        }
        if (doc)
            fire_libxml2(filter, *engine, doc.get(), stanza, fire);
    }
}

} // namespace pcj::detail
