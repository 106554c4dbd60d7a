// Differential tests of the XPath fast path: every expression of its subset must give exactly what
// libxml2 alone gives (the same filters fired, the same nodes in the same order).
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "filter_fires.hpp"
#include "pcj/node.hpp"
#include "xpath.hpp"
#include "xpath_subset.hpp"

using pcj::build;
using pcj::Node;
using pcj::detail::FilterSet;
using pcj::test::Fired;
using pcj::test::run;

namespace {

std::string describe(const std::vector<Fired>& fired) {
    std::string out;
    for (const Fired& f : fired) {
        out += f.event + " " + f.xpath + " ->";
        for (const Node& m : f.matches)
            out += " " + (m.is_text() ? "text(" + m.text() + ")" : m.to_string());
        out += "\n";
    }
    return out;
}

struct Rng {
    std::mt19937 rng;
    unsigned pick(unsigned n) { return n == 0 ? 0 : static_cast<unsigned>(rng() % n); }
};

// The reference (libxml2 alone), the fast path alone, and both the index and the fast path.
struct Trio {
    FilterSet reference;
    FilterSet fast;
    FilterSet both;

    Trio() {
        reference.set_indexing(false);
        reference.set_fast_path(false);
        fast.set_indexing(false);
        both.set_index_above(0); // the index's look-up decides even one filter
        for (FilterSet* f : {&reference, &fast, &both})
            for (const auto& [prefix, uri] : pcj::test::kSubsetPrefixes)
                f->ns_prefix(std::string(prefix), std::string(uri));
    }
    void add(const std::string& event, const std::string& xpath) {
        for (FilterSet* f : {&reference, &fast, &both})
            f->add(event, xpath);
    }
};

// Stanzas the plain-stanza check must keep away from the fast path.
std::vector<Node> odd_stanzas() {
    std::vector<Node> out;
    out.push_back(build("message").child(build("body").text(std::string("a\0b", 3))));
    out.push_back(build(":body").child(build("body").text("a")));
    out.push_back(build("message").child(build("body:").text("a")));
    out.push_back(build("p:message", "urn:p").attr("xmlns:p", "urn:q").child(build("x", "urn:p")));
    out.push_back(build("xml:message", "urn:p").child(build("body").text("ab")));
    return out;
}

} // namespace

TEST_CASE("xpath fast path: generated subset expressions fire exactly as libxml2 alone",
          "[xpath][fast]") {
    Rng rng{std::mt19937(20261203)};
    pcj::test::SubsetGenerator<Rng> gen(rng);
    std::size_t fired = 0;
    std::size_t fired_with_several = 0;
    for (int round = 0; round < 60; ++round) {
        Trio trio;
        std::vector<std::string> exprs;
        for (int i = 0; i < 25; ++i) {
            exprs.push_back(gen.expression());
            INFO(exprs.back());
            REQUIRE_NOTHROW(trio.add("e" + std::to_string(i), exprs.back()));
        }
        // Every generated expression is in the subset: otherwise this test proves nothing.
        REQUIRE(trio.fast.fast_count() == exprs.size());
        std::vector<Node> stanzas = odd_stanzas();
        for (int i = 0; i < 150; ++i)
            stanzas.push_back(gen.stanza());
        for (const Node& stanza : stanzas) {
            const std::vector<Fired> want = run(trio.reference, stanza);
            INFO(stanza.to_string() << "\nlibxml2:\n" << describe(want));
            const std::vector<Fired> fast = run(trio.fast, stanza);
            INFO("fast path:\n" << describe(fast));
            REQUIRE(fast == want);
            REQUIRE(run(trio.both, stanza) == want);
            fired += want.size();
            for (const Fired& f : want)
                fired_with_several += f.matches.size() > 1 ? 1 : 0;
        }
    }
    // The sample exercises both verdicts and multi-node selections.
    CHECK(fired > 10000);
    CHECK(fired_with_several > 200);
}

TEST_CASE("xpath fast path: the usual filter shapes are in the subset, the rest are not",
          "[xpath][fast]") {
    const std::vector<std::string> in = {
        "/message/body",
        "/message[@type='chat'][@from='user1@example.net/phone']",
        "/message[body][@to='svc1@bench']",
        "/message[p:x][@id='m1']",
        "/message[subject='Weekly']",
        "/message[starts-with(body,'!cmd')]",
        "/message[contains(body, 'x')]",
        "/message[@type='groupchat' or not(@type)]",
        "/iq[@type='get']/p:*",
        "/message/p:x/@id",
        "@type = 'chat' and body",
        "not(body)",
        "body",
        "/*",
    };
    const std::vector<std::string> out = {
        "//body",
        "/message/body/text()",
        "/message[1]",
        "count(body)",
        "/message | /iq",
        "/message[@xml:lang='en']",
        "self::message",
        "/message[last()]",
        "/message/..",
        "/",
        "(/message)[1]",
        "/message[string(body)='a']",
        "/message/xml:x",
        "/message/@id[.='a']",
        "/message[@id=@to]",
    };
    FilterSet f;
    for (const auto& [prefix, uri] : pcj::test::kSubsetPrefixes)
        f.ns_prefix(std::string(prefix), std::string(uri));
    for (const std::string& xpath : in) {
        INFO(xpath);
        const std::size_t before = f.fast_count();
        f.add("in", xpath);
        CHECK(f.fast_count() == before + 1);
    }
    for (const std::string& xpath : out) {
        INFO(xpath);
        const std::size_t before = f.fast_count();
        f.add("out", xpath);
        CHECK(f.fast_count() == before);
    }
}

TEST_CASE("xpath fast path: a rebound prefix is followed, an unbound one goes back to libxml2",
          "[xpath][fast][namespace]") {
    FilterSet f;
    f.ns_prefix("p", "urn:a");
    f.add("e", "/message[p:c/@id='1']");
    CHECK(f.fast_count() == 1);
    const Node a = build("message").child(build("c", "urn:a").attr("id", "1"));
    const Node b = build("message").child(build("c", "urn:b").attr("id", "1"));
    CHECK(run(f, a).size() == 1);
    CHECK(run(f, b).empty());
    f.ns_prefix("p", "urn:b");
    CHECK(run(f, a).empty());
    CHECK(run(f, b).size() == 1);
    f.ns_prefix("p", ""); // unbound: libxml2 fails the evaluation, which is no match
    CHECK(f.fast_count() == 0);
    CHECK(run(f, a).empty());
    CHECK(run(f, b).empty());
}

TEST_CASE("xpath fast path: string values are the concatenated descendant text", "[xpath][fast]") {
    FilterSet f;
    f.add("eq", "/message[body='ab']");
    f.add("starts", "/message[starts-with(body,'a')]");
    Node m = build("message").child(build("body").text("a").child(build("b").text("b")));
    CHECK(run(f, m).size() == 2);
    m = build("message").child(build("body").text("b")).child(build("body").text("ab"));
    // = looks at every body, starts-with only at the first.
    const std::vector<Fired> fired = run(f, m);
    REQUIRE(fired.size() == 1);
    CHECK(fired[0].event == "eq");
}

TEST_CASE("xpath fast path: stanzas libxml2 would see otherwise are left to libxml2",
          "[xpath][fast]") {
    const std::vector<std::string> exprs = {
        "/message[body='a']",
        "/message[contains(body,'b')]",
        "/body",
        "/*[body]",
        "/message/body",
        "/p:message/p:x",
        "/*/*",
        "/message[*='a']",
    };
    Trio trio;
    for (std::size_t i = 0; i < exprs.size(); ++i)
        trio.add("e" + std::to_string(i), exprs[i]);
    REQUIRE(trio.fast.fast_count() == exprs.size());
    std::size_t fired = 0;
    for (const Node& stanza : odd_stanzas()) {
        const std::vector<Fired> want = run(trio.reference, stanza);
        INFO(stanza.to_string() << "\nlibxml2:\n" << describe(want));
        CHECK(run(trio.fast, stanza) == want);
        CHECK(run(trio.both, stanza) == want);
        fired += want.size();
    }
    CHECK(fired >= 5);
}
