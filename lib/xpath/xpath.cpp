// FilterSet: XPath 1.0 filters compiled by libxml2 and evaluated against each stanza as a document.
//
// Each evaluate() turns the stanza into a small libxml2 document whose root element is the stanza
// and which is also the context node, so both "/message[@type='chat']" and PCJ's relative forms
// ("self::message", "body") work. Every libxml2 element remembers (in _private) the pcj::Node it
// was built from, so a selected element is handed back as a copy of the original subtree.
//
// The libxml2 plumbing (the document, the context, error capture) is in xpath_engine.cpp.
// The filter table is copy-on-write, so a fire() that adds or removes filters does not
// disturb the evaluation in progress.
//
// libxml2 compiles every expression and decides every match outside the fast path. The
// pre-filter (xpath_index.hpp) only rules filters out: from each expression it derives what a
// stanza must have for it to fire, and an index over that names the few candidates for a
// stanza. A candidate whose expression is in the fast path's subset (xpath_fast.hpp) is then
// evaluated on the pcj::Node itself; the others go to libxml2, and the document is built once
// per stanza, only when one of them remains.
#include "xpath.hpp"

#include <libxml/parser.h>
#include <libxml/xpathInternals.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "pcj/error.hpp"
#include "xpath_engine.hpp"
#include "xpath_fast.hpp"
#include "xpath_index.hpp"
#include "xpath_lex.hpp"
#include "xpath_parse.hpp"

namespace pcj::detail {

namespace {

using xp::CompFree;
using xp::CompPtr;
using xp::DocPtr;
using xp::Engine;
using xp::ObjectPtr;
using xp::xml_str;

// -- static checks on an expression ----------------------------------------------------------

// The names an expression refers to: every prefix, and the functions it calls.
struct NamesUsed {
    std::vector<std::string> prefixes;
    std::vector<std::string> functions;
};

// libxml2 resolves prefixes and functions only while evaluating, and then only on the paths it
// takes, so add() checks them from the tokens. The expression has compiled, so the tokenizer
// accepts it; should it stop early, the names before that point are still checked.
NamesUsed names_used(const std::vector<xp::Token>& tokens) {
    NamesUsed used;
    for (const xp::Token& t : tokens) {
        using T = xp::Token::T;
        if (t.t != T::name && t.t != T::function && t.t != T::variable)
            continue;
        if (!t.prefix.empty())
            used.prefixes.emplace_back(t.prefix);
        if (t.t == T::function)
            used.functions.push_back(t.prefix.empty()
                                         ? std::string(t.local)
                                         : std::string(t.prefix) + ":" + std::string(t.local));
    }
    return used;
}

struct Filter {
    std::string event;
    std::string xpath;
    std::shared_ptr<xmlXPathCompExpr> comp;
    std::vector<std::string> prefixes; // the plan and the fast program depend on their bindings
    Plan plan;
    std::optional<fast::Program> fast; // set when the expression is in the fast path's subset
};

// The index's plan and the fast program, from one parse of the expression (none: pcj's parser
// did not take it, and libxml2 alone decides).
void plan_and_compile(Filter& f, const PrefixMap& prefixes, const std::optional<xp::Expr>& e) {
    f.plan = e ? make_plan(*e, prefixes) : Plan{};
    f.fast = e ? fast::compile(*e, prefixes) : std::nullopt;
}

void plan_and_compile(Filter& f, const PrefixMap& prefixes) {
    plan_and_compile(f, prefixes, xp::parse(f.xpath));
}

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
} // namespace

struct FilterSet::Impl {
    std::shared_ptr<FilterTable> table = std::make_shared<FilterTable>();
    // Made on first use: most components never add a filter, and an XPath context costs about
    // 12 KB — a quarter of an idle connection.
    std::shared_ptr<Engine> engine;
    PrefixMap prefixes;
    DocPtr probe_doc; // see probe()
    bool indexing = true;
    // Up to this many filters, every one is a candidate: the index pays from there on.
    std::size_t index_above = 4;
    bool fast_path = true;

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
    // The document is made once per set, on the first add(); an evaluation does not change it.
    void probe(const std::string& xpath, xmlXPathCompExpr* comp) {
        if (!probe_doc) {
            DocPtr doc(xmlNewDoc(xml_str("1.0")));
            xmlNode* root =
                doc ? xmlNewDocNode(doc.get(), nullptr, xml_str("pcj-probe"), nullptr) : nullptr;
            if (root == nullptr)
                throw std::bad_alloc();
            xmlDocSetRootElement(doc.get(), root);
            probe_doc = std::move(doc);
        }
        if (!engine->run(comp, probe_doc.get()))
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
            plan_and_compile(*copy, prefixes);
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
        matches.push_back(xp::to_node(set->nodeTab[i], stanza));
    result.reset();
    fire(filter.event, filter.xpath, matches);
}

// The fast path's verdict handed over as libxml2's would be: a boolean with the stanza, one
// selected element as the stanza's own subtree, anything else as copies (an attribute as a text
// node holding its value).
void fire_fast(const Filter& filter, const std::vector<fast::Hit>& hits, const Node& stanza,
               const FilterSet::Fire& fire) {
    if (!filter.fast->selects) {
        fire(filter.event, filter.xpath, std::span<const Node>(&stanza, 1));
        return;
    }
    if (hits.size() == 1 && hits[0].element != nullptr) {
        fire(filter.event, filter.xpath, std::span<const Node>(hits[0].element, 1));
        return;
    }
    std::vector<Node> matches;
    matches.reserve(hits.size());
    for (const fast::Hit& h : hits)
        matches.push_back(h.element != nullptr ? *h.element : Node::text_node(*h.value));
    fire(filter.event, filter.xpath, matches);
}

// Per-thread buffers for evaluate(), so that a stanza costs no allocation; a nested evaluate()
// (from inside a fire()) takes its own.
struct Scratch {
    std::vector<std::uint32_t> candidates;
    std::vector<fast::Hit> hits;
    bool busy = false;
};

class ScratchLease {
public:
    ScratchLease() : scratch_(shared().busy ? own_ : shared()) { scratch_.busy = true; }
    ~ScratchLease() { scratch_.busy = false; }
    ScratchLease(const ScratchLease&) = delete;
    ScratchLease& operator=(const ScratchLease&) = delete;
    Scratch* operator->() { return &scratch_; }

private:
    static Scratch& shared() {
        thread_local Scratch s;
        return s;
    }
    Scratch own_;
    Scratch& scratch_;
};

// Every filter through libxml2: stanzas the pre-filter cannot vouch for, and tests.
void evaluate_all(const FilterTable& table, Engine& engine, const Node& stanza,
                  const FilterSet::Fire& fire) {
    DocPtr doc = xp::stanza_document(stanza);
    if (!doc)
        return;
    for (const auto& filter : table.list)
        fire_libxml2(*filter, engine, doc.get(), stanza, fire);
}

} // namespace

FilterSet::FilterSet() {
    xmlInitParser();
}

FilterSet::~FilterSet() = default;

FilterSet::Impl& FilterSet::impl() {
    if (!impl_)
        impl_ = std::make_unique<Impl>();
    return *impl_;
}

void FilterSet::add(std::string event, std::string xpath) {
    if (xpath.find('\0') != std::string::npos)
        Impl::fail(xpath, "contains a NUL character");
    CompPtr comp = impl().ensure_engine().compile(xpath);
    if (!comp) {
        const std::string& why = impl_->engine->errors;
        Impl::fail(xpath, why.empty() ? "libxml2 could not compile it" : why);
    }
    // One tokenization serves the checks of names and pcj's parser. The tokens view `xpath`:
    // they are used up before it moves into the filter.
    std::vector<xp::Token> tokens;
    const bool lexed = xp::tokenize(xpath, tokens);
    NamesUsed used = names_used(tokens);
    impl_->check_names(xpath, used);
    impl_->probe(xpath, comp.get());
    const std::optional<xp::Expr> parsed =
        lexed ? xp::parse(std::move(tokens)) : std::optional<xp::Expr>();
    auto filter = std::make_shared<Filter>();
    filter->event = std::move(event);
    filter->xpath = std::move(xpath);
    plan_and_compile(*filter, impl_->prefixes, parsed);
    filter->comp = std::shared_ptr<xmlXPathCompExpr>(comp.release(), CompFree{});
    filter->prefixes = std::move(used.prefixes);
    FilterTable& t = impl_->writable();
    t.index.add(static_cast<std::uint32_t>(t.list.size()), filter->plan);
    t.list.push_back(std::move(filter));
}

std::size_t FilterSet::remove(std::string_view event) {
    if (!impl_)
        return 0;
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

void FilterSet::clear() {
    if (!impl_ || impl_->table->list.empty())
        return;
    // An evaluation in progress keeps the table it holds.
    if (impl_->table.use_count() > 1)
        impl_->table = std::make_shared<FilterTable>();
    else
        *impl_->table = FilterTable();
}

void FilterSet::ns_prefix(std::string prefix, std::string uri) {
    if (prefix.empty() || prefix.find(':') != std::string::npos)
        throw XPathError("bad namespace prefix \"" + prefix + "\"");
    Engine& engine = impl().ensure_engine();
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
    return !impl_ || impl_->table->list.empty();
}

std::size_t FilterSet::size() const {
    return impl_ ? impl_->table->list.size() : 0;
}

void FilterSet::set_indexing(bool on) {
    impl().indexing = on;
}

void FilterSet::set_index_above(std::size_t filters) {
    impl().index_above = filters;
}

void FilterSet::set_fast_path(bool on) {
    impl().fast_path = on;
}

std::size_t FilterSet::fast_count() const {
    if (!impl_)
        return 0;
    const auto& list = impl_->table->list;
    return static_cast<std::size_t>(
        std::count_if(list.begin(), list.end(), [](const auto& f) { return f->fast.has_value(); }));
}

// Only the candidates the index names, and whose necessary condition holds, are evaluated: by the
// fast path when it covers the expression, otherwise by libxml2 on a document built for the
// first of them.
void FilterSet::evaluate(const Node& stanza, const Fire& fire, bool parsed) const {
    if (!impl_)
        return; // nothing was ever added
    // Both snapshots keep working even if fire() changes or destroys this FilterSet.
    const std::shared_ptr<const FilterTable> table = impl_->table;
    if (table->list.empty() || stanza.empty() || stanza.is_text())
        return;
    const std::shared_ptr<Engine> engine = impl_->engine; // set: a filter was added
    const bool indexing = impl_->indexing;
    const bool fast_path = impl_->fast_path;
    const std::size_t index_above = impl_->index_above;
    if ((!indexing && !fast_path) ||
        !(parsed ? plain_parsed_stanza(stanza) : plain_stanza(stanza))) {
        evaluate_all(*table, *engine, stanza, fire);
        return;
    }
    ScratchLease scratch;
    std::vector<std::uint32_t>& candidates = scratch->candidates;
    // A few filters cost less tried one by one (each fast program, or the necessary condition,
    // rejects a stanza in a few comparisons) than the index's keys, hashes and sort.
    if (indexing && table->list.size() > index_above) {
        table->index.candidates(stanza, candidates);
    } else {
        candidates.resize(table->list.size());
        std::iota(candidates.begin(), candidates.end(), 0U);
    }
    DocPtr doc;
    bool doc_built = false;
    for (std::uint32_t id : candidates) {
        const Filter& filter = *table->list[id];
        // The fast path decides exactly, so the necessary condition only serves libxml2.
        if (indexing && !(fast_path && filter.fast) && !holds(filter.plan.cond, stanza))
            continue;
        if (fast_path && filter.fast) {
            const fast::Verdict verdict = fast::run(*filter.fast, stanza, scratch->hits);
            if (verdict == fast::Verdict::no)
                continue;
            if (verdict == fast::Verdict::yes) {
                fire_fast(filter, scratch->hits, stanza, fire);
                continue;
            }
        }
        if (!doc_built) {
            doc_built = true;
            doc = xp::stanza_document(stanza);
        }
        if (doc)
            fire_libxml2(filter, *engine, doc.get(), stanza, fire);
    }
}

} // namespace pcj::detail
