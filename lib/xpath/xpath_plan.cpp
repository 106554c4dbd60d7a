// make_plan: an XPath filter's necessary condition and index keys, from its text.
//
// The context is FilterSet's document: the document node has exactly one child, the stanza
// element S, and S is also the context node. Every rule below only ever weakens: when unsure,
// a sub-expression contributes "true" to the condition. Nothing here decides a match: that is
// libxml2's job (xpath.cpp); a condition only lets a filter be skipped on a stanza.
#include <algorithm>
#include <iterator>
#include <optional>
#include <utility>

#include "xpath_index.hpp"
#include "xpath_parse.hpp"

namespace pcj::detail {

namespace {

using xp::Axis;
using xp::Expr;
using xp::NodeTest;
using xp::Step;

constexpr std::string_view kXmlNs = "http://www.w3.org/XML/1998/namespace";

// How deep the analysis may recurse (truth, nonempty and rest each count one level). The parser
// bounds the operators of an expression, but not the steps of a path ("self::node()/…" ten
// thousand times); a deeper expression is left unindexed rather than risk the stack.
constexpr int kMaxAnalysisDepth = 200;

// -- condition algebra -------------------------------------------------------------------------

Cond yes() {
    return Cond{};
}

Cond atom(Atom a) {
    Cond c;
    c.kind = Cond::Kind::atom;
    c.atom = std::move(a);
    return c;
}

// `a` and `b` joined under `kind` (all or any), a side of that kind contributing its
// children: a chain of n operators grows one list instead of making n of them.
Cond join(Cond::Kind kind, Cond a, Cond b) {
    Cond c;
    if (a.kind == kind) {
        c = std::move(a);
    } else {
        c.kind = kind;
        c.kids.reserve(2);
        c.kids.push_back(std::move(a));
    }
    if (b.kind == kind)
        std::move(b.kids.begin(), b.kids.end(), std::back_inserter(c.kids));
    else
        c.kids.push_back(std::move(b));
    return c;
}

Cond all(Cond a, Cond b) {
    if (a.kind == Cond::Kind::yes)
        return b;
    if (b.kind == Cond::Kind::yes)
        return a;
    return join(Cond::Kind::all, std::move(a), std::move(b));
}

Cond any(Cond a, Cond b) {
    if (a.kind == Cond::Kind::yes || b.kind == Cond::Kind::yes)
        return yes();
    return join(Cond::Kind::any, std::move(a), std::move(b));
}

// -- the analysis --------------------------------------------------------------------------------

class Analyser {
public:
    explicit Analyser(const PrefixMap& prefixes) : prefixes_(prefixes) {}

    // The expression was deeper than kMaxAnalysisDepth: what fires() returned means nothing.
    bool too_deep() const { return too_deep_; }

    // When does the filter fire: a non-empty node-set or a true boolean.
    Cond fires(const Expr& e) const {
        switch (e.kind) {
        case Expr::Kind::path:
        case Expr::Kind::union_:
        case Expr::Kind::filter:
            return nonempty(e);
        default:
            return truth(e); // numbers and strings never fire; "true" is safe for them
        }
    }

    std::optional<ElemTest> elem_test(const NodeTest& t) const {
        ElemTest out;
        switch (t.kind) {
        case NodeTest::Kind::any:
            out.ns = ElemTest::Ns::any;
            return out;
        case NodeTest::Kind::name:
        case NodeTest::Kind::ns_any:
            out.local = t.local;
            if (t.prefix.empty())
                return out;
            out.ns = ElemTest::Ns::uri;
            if (t.prefix == "xml") { // libxml2 resolves it before the registered prefixes
                out.uri = kXmlNs;
                return out;
            }
            if (auto it = prefixes_.find(t.prefix); it != prefixes_.end()) {
                out.uri = it->second;
                return out;
            }
            return std::nullopt; // unbound: libxml2 fails the evaluation
        default:
            return std::nullopt;
        }
    }

    // "@name" relative to the context node, name unprefixed.
    static const std::string* simple_attr(const Expr& e) {
        if (e.kind != Expr::Kind::path || e.absolute || e.steps.size() != 1)
            return nullptr;
        return simple_attr(e.steps[0]);
    }
    // The same for one step.
    static const std::string* simple_attr(const Step& s) {
        if (s.axis != Axis::attribute || s.test.kind != NodeTest::Kind::name ||
            !s.test.prefix.empty() || !s.preds.empty())
            return nullptr;
        return &s.test.local;
    }

private:
    const PrefixMap& prefixes_;
    mutable int depth_ = 0;
    mutable bool too_deep_ = false;

    // One level of the analysis' recursion; `ok` is false past kMaxAnalysisDepth.
    class Level {
    public:
        explicit Level(const Analyser& a) : a_(a) {
            if (++a_.depth_ > kMaxAnalysisDepth)
                a_.too_deep_ = true;
        }
        ~Level() { --a_.depth_; }
        Level(const Level&) = delete;
        Level& operator=(const Level&) = delete;
        bool ok() const { return !a_.too_deep_; }

    private:
        const Analyser& a_;
    };

    static bool node_set(const Expr& e) {
        return e.kind == Expr::Kind::path || e.kind == Expr::Kind::union_ ||
               e.kind == Expr::Kind::filter;
    }

    // boolean(e) is true.
    Cond truth(const Expr& e) const {
        const Level level(*this);
        if (!level.ok())
            return yes();
        switch (e.kind) {
        case Expr::Kind::or_:
            return any(truth(e.args[0]), truth(e.args[1]));
        case Expr::Kind::and_:
            return all(truth(e.args[0]), truth(e.args[1]));
        case Expr::Kind::path:
        case Expr::Kind::union_:
        case Expr::Kind::filter:
            return nonempty(e);
        case Expr::Kind::eq:
        case Expr::Kind::ne:
        case Expr::Kind::relational:
            return compared(e);
        case Expr::Kind::function:
            return function_truth(e);
        default:
            return yes();
        }
    }

    // A comparison with a node-set is false when the node-set is empty, unless the other side
    // is a boolean (then the node-set's own boolean is compared), so only literals, numbers
    // and node-sets count here.
    Cond compared(const Expr& e) const {
        const Expr* a = &e.args[0];
        const Expr* b = &e.args[1];
        if (!node_set(*a))
            std::swap(a, b);
        if (!node_set(*a))
            return yes();
        if (b->kind == Expr::Kind::literal && e.kind == Expr::Kind::eq)
            return equals_literal(*a, b->text);
        if (b->kind == Expr::Kind::literal || b->kind == Expr::Kind::number)
            return nonempty(*a);
        if (node_set(*b))
            return all(nonempty(*a), nonempty(*b));
        return yes();
    }

    Cond equals_literal(const Expr& path, const std::string& value) const {
        if (const std::string* name = simple_attr(path))
            return atom(Atom{Atom::Kind::attr_eq, {}, *name, value});
        // child/@name = 'value'
        if (path.kind == Expr::Kind::path && !path.absolute && path.steps.size() == 2 &&
            path.steps[0].axis == Axis::child && path.steps[0].preds.empty()) {
            const std::string* name = simple_attr(path.steps[1]);
            std::optional<ElemTest> t = elem_test(path.steps[0].test);
            if (name != nullptr && t)
                return atom(Atom{Atom::Kind::child_attr_eq, std::move(*t), *name, value});
        }
        // child = 'value': some such child has that string value
        if (std::optional<ElemTest> t = one_child(path))
            return atom(Atom{Atom::Kind::child_text_eq, std::move(*t), {}, value});
        return nonempty(path);
    }

    // The test of a path made of one child step with a name (its predicates only narrow it).
    std::optional<ElemTest> one_child(const Expr& path) const {
        if (path.kind != Expr::Kind::path || path.absolute || path.steps.size() != 1 ||
            path.steps[0].axis != Axis::child)
            return std::nullopt;
        std::optional<ElemTest> t = elem_test(path.steps[0].test);
        if (!t || t->local.empty() || t->ns == ElemTest::Ns::any)
            return std::nullopt;
        return t;
    }

    Cond function_truth(const Expr& e) const {
        if (e.text == "boolean" && e.args.size() == 1)
            return truth(e.args[0]);
        const bool search = e.text == "starts-with" || e.text == "contains";
        if (!search || e.args.size() != 2 || e.args[1].kind != Expr::Kind::literal ||
            e.args[1].text.empty() || !node_set(e.args[0]))
            return yes();
        // string(node-set) is empty for an empty node-set, and "" contains no non-empty text.
        const std::string* name = simple_attr(e.args[0]);
        if (name != nullptr && e.text == "starts-with")
            return atom(Atom{Atom::Kind::attr_prefix, {}, *name, e.args[1].text});
        // The first such child starts with the text, so some such child does.
        if (e.text == "starts-with")
            if (std::optional<ElemTest> t = one_child(e.args[0]))
                return atom(Atom{Atom::Kind::child_text_prefix, std::move(*t), {}, e.args[1].text});
        return nonempty(e.args[0]);
    }

    Cond nonempty(const Expr& e) const {
        const Level level(*this);
        if (!level.ok())
            return yes();
        switch (e.kind) {
        case Expr::Kind::union_: {
            Cond c = nonempty(e.args[0]);
            for (std::size_t i = 1; i < e.args.size(); ++i)
                c = any(std::move(c), nonempty(e.args[i]));
            return c;
        }
        case Expr::Kind::filter: // predicates and further steps only narrow the primary
            return node_set(e.args[0]) ? nonempty(e.args[0]) : yes();
        case Expr::Kind::path:
            break;
        default:
            return yes();
        }
        if (!e.absolute)
            return rest(e.steps, 0);
        if (e.steps.empty())
            return yes(); // "/" is the document node
        const Step& first = e.steps[0];
        if (first.axis != Axis::child)
            return yes();
        return all(all(root_test(first.test), preds_of_root(first.preds)), rest(e.steps, 1));
    }

    Cond root_test(const NodeTest& t) const {
        std::optional<ElemTest> et = elem_test(t);
        if (!et || et->ns == ElemTest::Ns::any) // node(), text(), an unbound prefix, "*"
            return yes();
        return atom(Atom{Atom::Kind::root, std::move(*et), {}, {}});
    }

    // Predicates on the stanza itself: its position is 1 of 1, so a numeric predicate is no
    // condition, and every other one is a boolean with the stanza as context.
    Cond preds_of_root(const std::vector<Expr>& preds) const {
        Cond c;
        for (const Expr& p : preds)
            c = all(std::move(c), truth(p));
        return c;
    }

    // The steps from i on, applied to the stanza as context node.
    Cond rest(const std::vector<Step>& steps, std::size_t i) const {
        const Level level(*this);
        if (i == steps.size() || !level.ok())
            return yes();
        const Step& s = steps[i];
        switch (s.axis) {
        case Axis::self:
            if (s.test.kind == NodeTest::Kind::node)
                return all(preds_of_root(s.preds), rest(steps, i + 1));
            return all(all(root_test(s.test), preds_of_root(s.preds)), rest(steps, i + 1));
        case Axis::child:
            return child(s);
        case Axis::attribute:
            if (s.test.kind == NodeTest::Kind::name && s.test.prefix.empty())
                return atom(Atom{Atom::Kind::attr_present, {}, s.test.local, {}});
            return yes();
        default:
            return yes();
        }
    }

    // A child matching the step's test, with the attribute equalities among its predicates.
    Cond child(const Step& s) const {
        std::optional<ElemTest> t = elem_test(s.test);
        if (!t || t->local.empty())
            return yes();
        Cond c = atom(Atom{Atom::Kind::child, *t, {}, {}});
        for (const Expr& p : s.preds) {
            if (p.kind != Expr::Kind::eq)
                continue;
            const Expr* a = &p.args[0];
            const Expr* b = &p.args[1];
            if (a->kind == Expr::Kind::literal)
                std::swap(a, b);
            const std::string* name = simple_attr(*a);
            if (name != nullptr && b->kind == Expr::Kind::literal)
                c = all(std::move(c), atom(Atom{Atom::Kind::child_attr_eq, *t, *name, b->text}));
        }
        return c;
    }
};

// -- index keys ----------------------------------------------------------------------------------

// Lower is more selective. A stanza's type takes a handful of values, so a filter filed under
// type='chat' is a candidate on most messages: any other key of its condition is better.
int weight(const Atom& a) {
    switch (a.kind) {
    case Atom::Kind::attr_eq:
        return a.name == "type" ? 7 : 1;
    case Atom::Kind::child_attr_eq:
    case Atom::Kind::child_text_eq:
        return 1;
    case Atom::Kind::attr_prefix:
    case Atom::Kind::child_text_prefix:
        return 2;
    case Atom::Kind::child:
        return a.test.ns == ElemTest::Ns::uri ? 2 : 6;
    case Atom::Kind::attr_present:
        return 8;
    case Atom::Kind::root:
        return 12;
    }
    return 100;
}

bool indexable(const Atom& a) {
    switch (a.kind) {
    case Atom::Kind::root:
    case Atom::Kind::child:
    case Atom::Kind::child_attr_eq:
    case Atom::Kind::child_text_eq:
    case Atom::Kind::child_text_prefix:
        return !a.test.local.empty() && a.test.ns != ElemTest::Ns::any;
    default:
        return true;
    }
}

// Atoms one of which holds whenever c does; nullopt when there are none.
std::optional<std::vector<Atom>> keys_of(const Cond& c) {
    switch (c.kind) {
    case Cond::Kind::yes:
        return std::nullopt;
    case Cond::Kind::atom:
        if (!indexable(c.atom))
            return std::nullopt;
        return std::vector<Atom>{c.atom};
    case Cond::Kind::any: {
        std::vector<Atom> out;
        for (const Cond& k : c.kids) {
            auto ks = keys_of(k);
            if (!ks)
                return std::nullopt;
            out.insert(out.end(), ks->begin(), ks->end());
        }
        return out;
    }
    case Cond::Kind::all: {
        std::optional<std::vector<Atom>> best;
        int best_score = 0;
        for (const Cond& k : c.kids) {
            auto ks = keys_of(k);
            if (!ks)
                continue;
            int score = 0;
            for (const Atom& a : *ks)
                score += weight(a);
            if (!best || score < best_score) {
                best = std::move(ks);
                best_score = score;
            }
        }
        return best;
    }
    }
    return std::nullopt;
}

} // namespace

Plan make_plan(std::string_view xpath, const PrefixMap& prefixes) {
    const std::optional<Expr> e = xp::parse(xpath);
    return e ? make_plan(*e, prefixes) : Plan{};
}

Plan make_plan(const Expr& e, const PrefixMap& prefixes) {
    Plan plan;
    const Analyser analyser(prefixes);
    plan.cond = analyser.fires(e);
    if (analyser.too_deep())
        return Plan{}; // no condition and no keys: libxml2 sees it on every stanza
    if (auto keys = keys_of(plan.cond))
        plan.keys = std::move(*keys);
    return plan;
}

} // namespace pcj::detail
