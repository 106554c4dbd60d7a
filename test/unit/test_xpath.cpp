// Unit tests for FilterSet: XPath filters over stanzas (matching, namespaces, errors, re-entrancy).
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <tuple>
#include <unistd.h>
#include <vector>

#include "filter_fires.hpp"
#include "pcj/error.hpp"
#include "pcj/node.hpp"
#include "xpath.hpp"

using pcj::build;
using pcj::Node;
using pcj::detail::FilterSet;
using pcj::test::Fired;
using pcj::test::run;

namespace {

const std::string kDiscoInfo = "http://jabber.org/protocol/disco#info";

std::vector<std::string> events_of(const std::vector<Fired>& fired) {
    std::vector<std::string> out;
    for (const auto& f : fired)
        out.push_back(f.event);
    return out;
}

Node chat(std::string type = "chat") {
    return build("message", "jabber:client")
        .attr("to", "romeo@example.net")
        .attr("type", std::move(type))
        .child(build("body", "jabber:client").text("hi"));
}

Node disco_get(std::string query_ns) {
    return build("iq", "jabber:client")
        .attr("type", "get")
        .attr("id", "d1")
        .child(build("query", std::move(query_ns)));
}

// Captures what is written to file descriptor 2 while `body` runs.
template <typename F> std::string stderr_of(F&& body) {
    std::fflush(stderr);
    FILE* capture = std::tmpfile();
    REQUIRE(capture != nullptr);
    const int saved = dup(2);
    dup2(fileno(capture), 2);
    try {
        body();
    } catch (...) {
    }
    std::fflush(stderr);
    dup2(saved, 2);
    close(saved);
    std::string out;
    std::rewind(capture);
    for (int c = std::fgetc(capture); c != EOF; c = std::fgetc(capture))
        out += static_cast<char>(c);
    std::fclose(capture);
    return out;
}

} // namespace

TEST_CASE("xpath: an absolute path from the stanza as root selects a chat message",
          "[xpath][match]") {
    FilterSet filters;
    filters.add("chat", "/message[@type='chat']");
    auto fired = run(filters, chat());
    REQUIRE(fired.size() == 1);
    CHECK(fired[0].event == "chat");
    CHECK(fired[0].xpath == "/message[@type='chat']");
    REQUIRE(fired[0].matches.size() == 1);
    CHECK(fired[0].matches[0] == chat());
    CHECK(run(filters, chat("normal")).empty());
}

TEST_CASE("xpath: a descendant path selects the body, handed back as a Node", "[xpath][match]") {
    FilterSet filters;
    filters.add("body", "//body");
    auto fired = run(filters, chat());
    REQUIRE(fired.size() == 1);
    REQUIRE(fired[0].matches.size() == 1);
    CHECK(fired[0].matches[0].name() == "body");
    CHECK(fired[0].matches[0].text() == "hi");
    CHECK(run(filters, build("presence")).empty());
}

TEST_CASE("xpath: a child predicate selects only stanzas that have the child", "[xpath][match]") {
    FilterSet filters;
    filters.add("with-body", "/message[body]");
    CHECK(run(filters, chat()).size() == 1);
    CHECK(run(filters, build("message").attr("type", "chat")).empty());
}

TEST_CASE("xpath: attribute predicates and attribute selection", "[xpath][match]") {
    FilterSet filters;
    filters.add("get", "/iq[@type='get' and @id='d1']");
    filters.add("to", "/message/@to");
    CHECK(events_of(run(filters, disco_get(kDiscoInfo))) == std::vector<std::string>{"get"});

    auto fired = run(filters, chat());
    REQUIRE(fired.size() == 1);
    REQUIRE(fired[0].matches.size() == 1);
    CHECK(fired[0].matches[0].is_text());
    CHECK(fired[0].matches[0].text() == "romeo@example.net");
}

TEST_CASE("xpath: a text() step selects a text node", "[xpath][match]") {
    FilterSet filters;
    filters.add("text", "/message/body/text()");
    auto fired = run(filters, chat());
    REQUIRE(fired.size() == 1);
    REQUIRE(fired[0].matches.size() == 1);
    CHECK(fired[0].matches[0].is_text());
    CHECK(fired[0].matches[0].text() == "hi");
}

TEST_CASE("xpath: PCJ's relative forms work with the stanza as context node", "[xpath][match]") {
    FilterSet filters;
    filters.add("self", "self::message");
    filters.add("child", "body");
    filters.add("dot", ".");
    auto fired = run(filters, chat());
    REQUIRE(events_of(fired) == std::vector<std::string>{"self", "child", "dot"});
    CHECK(fired[2].matches.at(0) == chat());
}

TEST_CASE("xpath: a namespaced child is selected through a bound prefix", "[xpath][namespace]") {
    FilterSet filters;
    filters.ns_prefix("disco", kDiscoInfo);
    filters.add("info", "/iq/disco:query");
    filters.add("plain", "/iq/query");

    auto fired = run(filters, disco_get(kDiscoInfo));
    REQUIRE(events_of(fired) == std::vector<std::string>{"info"});
    CHECK(fired[0].matches.at(0).ns() == kDiscoInfo);

    // Another namespace: neither the prefixed nor the plain name matches.
    CHECK(run(filters, disco_get("http://jabber.org/protocol/disco#items")).empty());
}

TEST_CASE("xpath: stream content namespaces are seen as no namespace", "[xpath][namespace]") {
    FilterSet filters;
    filters.add("body", "/message/body");
    filters.add("no-ns", "/message[namespace-uri()='']");
    for (const char* ns : {"jabber:client", "jabber:server", "jabber:component:accept", ""}) {
        Node stanza = build("message", ns).child(build("body", ns).text("x"));
        CHECK(events_of(run(filters, stanza)) == std::vector<std::string>{"body", "no-ns"});
    }
    Node foreign = build("message", "urn:other").child(build("body", "urn:other"));
    CHECK(run(filters, foreign).empty());
}

TEST_CASE("xpath: a prefixed stanza name is matched through its namespace", "[xpath][namespace]") {
    FilterSet filters;
    filters.ns_prefix("s", "http://etherx.jabber.org/streams");
    filters.add("stream-error", "/s:error");
    Node error = build("stream:error", "http://etherx.jabber.org/streams")
                     .attr("xmlns:stream", "http://etherx.jabber.org/streams")
                     .child(build("conflict", "urn:ietf:params:xml:ns:xmpp-streams"));
    auto fired = run(filters, error);
    REQUIRE(fired.size() == 1);
    CHECK(fired[0].matches.at(0).name() == "stream:error");
}

TEST_CASE("xpath: xml:lang is the xml namespace's lang attribute", "[xpath][namespace]") {
    FilterSet filters;
    filters.add("english", "/message[@xml:lang='en']");
    CHECK(run(filters, build("message").attr("xml:lang", "en")).size() == 1);
    CHECK(run(filters, build("message").attr("xml:lang", "de")).empty());
}

TEST_CASE("xpath: namespace declarations are not attributes", "[xpath][namespace]") {
    FilterSet filters;
    filters.add("attrs", "/x/@*");
    CHECK(run(filters, build("x").attr("xmlns", "jabber:client").attr("xmlns:b", "urn:b")).empty());
    auto fired = run(filters, build("x").attr("xmlns:b", "urn:b").attr("a", "1"));
    REQUIRE(fired.size() == 1);
    CHECK(fired[0].matches.size() == 1);
}

TEST_CASE("xpath: an unbound prefix is refused by add()", "[xpath][errors]") {
    FilterSet filters;
    try {
        filters.add("info", "/iq/disco:query");
        FAIL("add() accepted an unbound prefix");
    } catch (const pcj::XPathError& e) {
        CHECK_THAT(e.what(), Catch::Contains("disco"));
    }
    CHECK_THROWS_AS(filters.add("x", "//*[self::foo:bar or true()]"), pcj::XPathError);
    CHECK_THROWS_AS(filters.add("x", "false() and //foo:bar"), pcj::XPathError);
    CHECK(filters.empty());
    // Once bound it is accepted; a prefix-like string inside a literal needs no binding.
    filters.ns_prefix("disco", kDiscoInfo);
    filters.add("info", "/iq/disco:query");
    filters.add("literal", "/message[@to='a:b']");
    filters.add("axis", "/child::message");
    CHECK(filters.size() == 3);
}

TEST_CASE("xpath: a malformed expression is refused by add() with libxml2's message",
          "[xpath][errors]") {
    FilterSet filters;
    std::string expr;
    std::string reason;
    std::tie(expr, reason) = GENERATE(table<std::string, std::string>({
        {"/message[", "Invalid expression at offset 9"},
        {"//", "Invalid expression"},
        {"", "Invalid expression"},
        {"/message[@type=='chat']", "Invalid expression"},
        {"/message/unknown-function()", "Invalid expression"},
        {"count(", "Invalid number of arguments"},
        {"concat('a')", "Invalid number of arguments"},
        {"count('a')", "Invalid type"},
        {"$undefined", "Undefined variable"},
        {"/message[foo()]", "Unregistered function \"foo\""},
    }));
    CAPTURE(expr);
    try {
        filters.add("bad", expr);
        FAIL("add() accepted a malformed expression");
    } catch (const pcj::XPathError& e) {
        CHECK_THAT(e.what(), Catch::Contains("\"" + expr + "\"") && Catch::Contains(reason));
    }
    CHECK(filters.empty());
}

TEST_CASE("xpath: libxml2 prints nothing on stderr for a bad expression", "[xpath][errors]") {
    FilterSet filters;
    const std::string printed = stderr_of([&] {
        CHECK_THROWS_AS(filters.add("bad", "/message[@a=="), pcj::XPathError);
        CHECK_THROWS_AS(filters.add("bad", "/message[nope()]"), pcj::XPathError);
        filters.add("good", "/message[substring(@to, 1, 3) = 'rom']");
        run(filters, chat());
    });
    CHECK(printed.empty());
}

TEST_CASE("xpath: remove() removes every filter of the event and returns the count",
          "[xpath][remove]") {
    FilterSet filters;
    filters.add("msg", "/message");
    filters.add("msg", "//body");
    filters.add("other", "/message");
    CHECK(filters.size() == 3);
    CHECK(filters.remove("msg") == 2);
    CHECK(filters.remove("msg") == 0);
    CHECK(filters.remove("never") == 0);
    CHECK(events_of(run(filters, chat())) == std::vector<std::string>{"other"});
    CHECK(filters.remove("other") == 1);
    CHECK(filters.empty());
    CHECK(run(filters, chat()).empty());
}

TEST_CASE("xpath: clear() removes every filter, keeps the prefixes, and spares a running "
          "evaluation",
          "[xpath][remove]") {
    FilterSet filters;
    filters.clear(); // never added to: nothing to do
    filters.ns_prefix("disco", kDiscoInfo);
    filters.add("first", "/message");
    filters.add("second", "//body");
    // Cleared from inside a fire(): the evaluation in progress finishes on its snapshot.
    std::vector<std::string> order;
    filters.evaluate(chat(), [&](std::string_view event, std::string_view, std::span<const Node>) {
        order.emplace_back(event);
        filters.clear();
    });
    CHECK(order == std::vector<std::string>{"first", "second"});
    CHECK(filters.empty());
    CHECK(filters.fast_count() == 0);
    CHECK(run(filters, chat()).empty());
    // The prefix is still bound, and the set works as before.
    filters.add("disco", "/iq/disco:query");
    CHECK(events_of(run(filters, disco_get(kDiscoInfo))) == std::vector<std::string>{"disco"});
    filters.clear();
    CHECK(filters.size() == 0);
    CHECK(run(filters, disco_get(kDiscoInfo)).empty());
}

// A set makes its state at the first add(), ns_prefix() or setting (most components never add a
// filter): every question before that is answered as for an empty set.
TEST_CASE("xpath: a set never added to is empty in every way, and works once used",
          "[xpath][remove]") {
    FilterSet filters;
    CHECK(filters.empty());
    CHECK(filters.size() == 0);
    CHECK(filters.fast_count() == 0);
    CHECK(filters.remove("msg") == 0);
    CHECK(run(filters, chat()).empty());
    FilterSet switched;
    switched.set_fast_path(false);
    CHECK(switched.empty());
    CHECK(run(switched, chat()).empty());
    switched.add("msg", "/message");
    filters.add("msg", "/message");
    CHECK(filters.fast_count() == 1);
    CHECK(switched.fast_count() == 1); // compiled either way; the switch only picks the evaluator
    CHECK(events_of(run(filters, chat())) == std::vector<std::string>{"msg"});
    CHECK(events_of(run(switched, chat())) == std::vector<std::string>{"msg"});
}

TEST_CASE("xpath: two filters on one event both fire, in insertion order", "[xpath][order]") {
    FilterSet filters;
    filters.add("first", "//body");
    filters.add("msg", "self::message");
    filters.add("msg", "//body");
    filters.add("last", "/message");
    auto fired = run(filters, chat());
    REQUIRE(events_of(fired) == std::vector<std::string>{"first", "msg", "msg", "last"});
    CHECK(fired[1].xpath == "self::message");
    CHECK(fired[2].xpath == "//body");
}

TEST_CASE("xpath: a true boolean fires with the stanza; false, numbers and strings never fire",
          "[xpath][result]") {
    FilterSet filters;
    filters.add("true", "count(//body) = 1");
    filters.add("false", "count(//body) = 2");
    filters.add("number", "count(//body)");
    filters.add("string", "string(/message/@type)");
    filters.add("empty-set", "/presence");
    auto fired = run(filters, chat());
    REQUIRE(events_of(fired) == std::vector<std::string>{"true"});
    REQUIRE(fired[0].matches.size() == 1);
    CHECK(fired[0].matches[0] == chat());
}

TEST_CASE("xpath: fire may add and remove filters; the running evaluation keeps its snapshot",
          "[xpath][reentrancy]") {
    FilterSet filters;
    filters.add("first", "/message");
    filters.add("second", "//body");
    std::vector<std::string> order;
    bool changed = false;
    auto fire = [&](std::string_view event, std::string_view, std::span<const Node>) {
        order.emplace_back(event);
        if (!changed) {
            changed = true;
            CHECK(filters.remove("second") == 1);
            filters.add("third", "/message[@type='chat']");
            CHECK_THROWS_AS(filters.add("bad", "/["), pcj::XPathError);
        }
    };
    filters.evaluate(chat(), fire);
    CHECK(order == std::vector<std::string>{"first", "second"});
    order.clear();
    filters.evaluate(chat(), fire);
    CHECK(order == std::vector<std::string>{"first", "third"});
}

TEST_CASE("xpath: fire may evaluate again re-entrantly", "[xpath][reentrancy]") {
    FilterSet filters;
    filters.add("outer", "/message");
    filters.add("inner", "/iq");
    std::vector<std::string> order;
    filters.evaluate(chat(), [&](std::string_view event, std::string_view, std::span<const Node>) {
        order.emplace_back(event);
        filters.evaluate(disco_get(kDiscoInfo),
                         [&](std::string_view e, std::string_view, std::span<const Node> m) {
                             order.emplace_back(e);
                             CHECK(m.size() == 1);
                         });
    });
    CHECK(order == std::vector<std::string>{"outer", "inner"});
}

TEST_CASE("xpath: odd stanzas never crash and match sensibly", "[xpath][robustness]") {
    FilterSet filters;
    filters.add("any", "/*");
    filters.add("deep", "//*[count(ancestor::*) > 10]");
    CHECK(run(filters, Node()).empty());
    CHECK(run(filters, Node::text_node("just text")).empty());

    Node deep("a");
    Node* at = &deep;
    for (int i = 0; i < 50; ++i)
        at = &at->add_child(build("a").attr("n", std::to_string(i)).text("t"));
    auto fired = run(filters, deep);
    REQUIRE(events_of(fired) == std::vector<std::string>{"any", "deep"});
    CHECK(fired[1].matches.size() == 40);

    Node odd = build("x", "urn:a").attr("p:attr", "unbound prefix").attr("xmlns:", "");
    odd.add_child(Node::text_node(""));
    odd.add_child(Node::text_node("a"));
    odd.add_child(Node::text_node("b"));
    odd.add_child(build("y:z", "urn:b").attr("xmlns:y", "urn:c"));
    CHECK(events_of(run(filters, odd)) == std::vector<std::string>{"any"});
}

TEST_CASE("xpath: an expensive expression is cut short instead of stalling",
          "[xpath][robustness]") {
    FilterSet filters;
    filters.add("slow", "//*[count(//*[count(//*) > 0]) > 0]");
    Node big("root");
    for (int i = 0; i < 300; ++i)
        big.add_child(build("item"));
    CHECK(run(filters, big).empty());
    CHECK(run(filters, build("root").child(build("one"))).size() == 1);
}
