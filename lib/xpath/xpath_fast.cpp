// The XPath fast path (xpath_fast.hpp): the subset's compiler and its evaluator on pcj::Node.
//
// The document libxml2 sees (xpath_engine.cpp) has the stanza S as its root element and as the
// context node; the document node D is S's parent. On a stanza plain_stanza() accepts, every
// element there has the local name and namespace element_matches() reads from the pcj::Node,
// every attribute other than a namespace declaration keeps its name (an unprefixed name stays
// unqualified, a prefixed one never equals an unprefixed name), and text holds no NUL byte, so
// an element's string value is the concatenation of its descendants' text, as in libxml2.
#include "xpath_fast.hpp"

#include <utility>

#include "node_access.hpp"
#include "xpath_parse.hpp"

namespace pcj::detail::fast {

namespace {

using xp::Axis;
using xp::Expr;
using xp::NodeTest;

// -- the subset's compiler ---------------------------------------------------------------------

class Compiler {
public:
    explicit Compiler(const PrefixMap& prefixes) : prefixes_(prefixes) {}

    std::optional<Program> top(const Expr& e) const {
        Program p;
        if (e.kind == Expr::Kind::path) {
            p.selects = true;
            if (!path(e, p.path))
                return std::nullopt;
            return p;
        }
        if (!boolean(e, p.test))
            return std::nullopt;
        return p;
    }

private:
    const PrefixMap& prefixes_;

    bool elem_test(const NodeTest& t, ElemTest& out) const {
        switch (t.kind) {
        case NodeTest::Kind::any:
            out.ns = ElemTest::Ns::any;
            return true;
        case NodeTest::Kind::name:
        case NodeTest::Kind::ns_any:
            out.local = t.local;
            if (t.prefix.empty())
                return true;
            if (t.prefix == "xml")
                return false; // libxml2 binds it itself; no filter needs it
            if (auto it = prefixes_.find(t.prefix); it != prefixes_.end()) {
                out.ns = ElemTest::Ns::uri;
                out.uri = it->second;
                return true;
            }
            return false;
        default:
            return false;
        }
    }

    bool path(const Expr& e, Path& out) const {
        if (e.kind != Expr::Kind::path || e.steps.empty())
            return false;
        out.absolute = e.absolute;
        out.steps.reserve(e.steps.size());
        for (std::size_t i = 0; i < e.steps.size(); ++i) {
            const xp::Step& s = e.steps[i];
            Step step;
            if (s.axis == Axis::attribute) {
                // Last, without predicates, unprefixed or "*".
                if (i + 1 != e.steps.size() || !s.preds.empty())
                    return false;
                if (s.test.kind == NodeTest::Kind::name && s.test.prefix.empty())
                    step.name = s.test.local;
                else if (s.test.kind != NodeTest::Kind::any)
                    return false;
                step.attribute = true;
            } else if (s.axis == Axis::child) {
                if (!elem_test(s.test, step.test))
                    return false;
                step.preds.reserve(s.preds.size());
                for (const Expr& p : s.preds) {
                    step.preds.emplace_back();
                    if (!boolean(p, step.preds.back()))
                        return false;
                }
            } else {
                return false;
            }
            out.steps.push_back(std::move(step));
        }
        return true;
    }

    bool boolean(const Expr& e, Bool& out) const {
        switch (e.kind) {
        case Expr::Kind::or_:
        case Expr::Kind::and_:
            out.kind = e.kind == Expr::Kind::or_ ? Bool::Kind::or_ : Bool::Kind::and_;
            out.kids.resize(2);
            return boolean(e.args[0], out.kids[0]) && boolean(e.args[1], out.kids[1]);
        case Expr::Kind::path:
            out.kind = Bool::Kind::exists;
            return path(e, out.path);
        case Expr::Kind::eq:
        case Expr::Kind::ne: {
            out.kind = e.kind == Expr::Kind::eq ? Bool::Kind::eq : Bool::Kind::ne;
            const Expr* a = &e.args[0];
            const Expr* b = &e.args[1];
            if (a->kind == Expr::Kind::literal)
                std::swap(a, b);
            if (b->kind != Expr::Kind::literal)
                return false;
            out.literal = b->text;
            return path(*a, out.path);
        }
        case Expr::Kind::function:
            return function(e, out);
        default:
            return false;
        }
    }

    bool function(const Expr& e, Bool& out) const {
        if (e.text == "not" && e.args.size() == 1) {
            out.kind = Bool::Kind::not_;
            out.kids.resize(1);
            return boolean(e.args[0], out.kids[0]);
        }
        if ((e.text == "starts-with" || e.text == "contains") && e.args.size() == 2 &&
            e.args[1].kind == Expr::Kind::literal) {
            out.kind = e.text == "contains" ? Bool::Kind::contains : Bool::Kind::starts_with;
            out.literal = e.args[1].text;
            return path(e.args[0], out.path);
        }
        return false;
    }
};

// -- the evaluator ---------------------------------------------------------------------------

// Node visits and string bytes one evaluation may spend before it hands the stanza to libxml2.
// libxml2 runs with an operation limit of 5,000,000 (xpath_engine.cpp) and spends at least one
// operation per node it visits; this budget stays far below it.
constexpr std::size_t kBudget = 200'000;

bool is_declaration(std::string_view name) {
    return name == "xmlns" || name.starts_with("xmlns:");
}

class Eval {
public:
    explicit Eval(const Node& stanza) : stanza_(stanza) {}

    bool blown() const { return blown_; }

    // Calls visit(hit) for each node the path selects from ctx, in document order, until visit
    // returns true; returns whether it did.
    template <class F> bool walk(const Path& p, const Node& ctx, F&& visit) {
        if (!p.absolute)
            return steps(p, 0, ctx, visit);
        // The document node's one child is the stanza; it has no attributes.
        const Step& first = p.steps[0];
        if (first.attribute || !element_matches(stanza_, first.test) || !preds(first, stanza_))
            return false;
        return steps(p, 1, stanza_, visit);
    }

    bool truth(const Bool& b, const Node& ctx) {
        if (!spend(1))
            return false;
        switch (b.kind) {
        case Bool::Kind::and_:
            return truth(b.kids[0], ctx) && truth(b.kids[1], ctx);
        case Bool::Kind::or_:
            return truth(b.kids[0], ctx) || truth(b.kids[1], ctx);
        case Bool::Kind::not_:
            return !truth(b.kids[0], ctx);
        case Bool::Kind::exists:
            return walk(b.path, ctx, [](const Hit&) { return true; });
        case Bool::Kind::eq:
        case Bool::Kind::ne: {
            const bool want_equal = b.kind == Bool::Kind::eq;
            return walk(b.path, ctx,
                        [&](const Hit& h) { return (string_value(h) == b.literal) == want_equal; });
        }
        case Bool::Kind::starts_with:
        case Bool::Kind::contains: {
            // string(node-set) is the first node's string value, "" for an empty set.
            std::string_view first;
            walk(b.path, ctx, [&](const Hit& h) {
                first = string_value(h);
                return true;
            });
            return b.kind == Bool::Kind::starts_with
                       ? first.starts_with(b.literal)
                       : first.find(b.literal) != std::string_view::npos;
        }
        }
        return false;
    }

private:
    const Node& stanza_;
    std::size_t spent_ = 0;
    bool blown_ = false;
    std::string buffer_;

    bool spend(std::size_t n) {
        spent_ += n;
        if (spent_ > kBudget)
            blown_ = true;
        return !blown_;
    }

    bool preds(const Step& s, const Node& e) {
        for (const Bool& p : s.preds)
            if (!truth(p, e))
                return false;
        return true;
    }

    template <class F> bool steps(const Path& p, std::size_t i, const Node& ctx, F& visit) {
        if (i == p.steps.size())
            return visit(Hit{&ctx, nullptr});
        const Step& s = p.steps[i];
        if (s.attribute) { // always the last step
            for (const auto& [name, value] : ctx.attributes()) {
                if (!spend(1))
                    return false;
                if (is_declaration(name) || (!s.name.empty() && name != s.name))
                    continue;
                if (visit(Hit{nullptr, &value}))
                    return true;
            }
            return false;
        }
        for (const Node& c : ctx.children()) {
            if (!spend(1))
                return false;
            if (c.is_text() || !element_matches(c, s.test) || !preds(s, c))
                continue;
            if (steps(p, i + 1, c, visit))
                return true;
        }
        return false;
    }

    void append_text(const Node& e) {
        for (const Node& c : e.children()) {
            if (!spend(1))
                return;
            if (c.is_text()) {
                const std::string& t = NodeAccess::text(c);
                spend(t.size() / 64);
                buffer_ += t;
            } else {
                append_text(c);
            }
        }
    }

    // An attribute's value, or an element's descendant text; the view lives until the next call.
    std::string_view string_value(const Hit& h) {
        if (h.value != nullptr)
            return *h.value;
        const std::vector<Node>& kids = h.element->children();
        if (kids.empty())
            return {};
        if (kids.size() == 1 && kids[0].is_text())
            return NodeAccess::text(kids[0]);
        buffer_.clear();
        append_text(*h.element);
        return buffer_;
    }
};

} // namespace

std::optional<Program> compile(std::string_view xpath, const PrefixMap& prefixes) {
    const std::optional<Expr> e = xp::parse(xpath);
    if (!e)
        return std::nullopt;
    return compile(*e, prefixes);
}

std::optional<Program> compile(const Expr& parsed, const PrefixMap& prefixes) {
    return Compiler(prefixes).top(parsed);
}

Verdict run(const Program& program, const Node& stanza, std::vector<Hit>& hits) {
    hits.clear();
    Eval eval(stanza);
    bool yes = false;
    if (program.selects) {
        eval.walk(program.path, stanza, [&](const Hit& h) {
            hits.push_back(h);
            return false;
        });
        yes = !hits.empty();
    } else {
        yes = eval.truth(program.test, stanza);
    }
    if (eval.blown())
        return Verdict::unsure;
    return yes ? Verdict::yes : Verdict::no;
}

} // namespace pcj::detail::fast
