// Unit tests for the XPath pre-filter: indexed evaluation fires exactly what libxml2 alone fires.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "filter_fires.hpp"
#include "pcj/node.hpp"
#include "xml_stream.hpp"
#include "xpath.hpp"
#include "xpath_index.hpp"

using pcj::build;
using pcj::Node;
using pcj::detail::FilterSet;
using pcj::test::Fired;
using pcj::test::run;

namespace {

const char* const kChatStates = "http://jabber.org/protocol/chatstates";
const char* const kDisco = "http://jabber.org/protocol/disco#info";
const char* const kMuc = "http://jabber.org/protocol/muc#user";

void bind(FilterSet& f) {
    f.ns_prefix("cs", kChatStates);
    f.ns_prefix("disco", kDisco);
    f.ns_prefix("sid", "urn:xmpp:sid:0");
    f.ns_prefix("x", kMuc);
    f.ns_prefix("a", "urn:a");
    f.ns_prefix("b", "urn:b");
    f.ns_prefix("jc", "jabber:client");
}

// Expressions of every shape the analysis handles, and many it must leave to libxml2.
const std::vector<std::string> kExpressions = {
    "/message",
    "/message/body",
    "/message/cs:composing",
    "/iq/disco:query",
    "/presence/a:c",
    "/message[@to='svc@bench']",
    "/message[@type='groupchat'][starts-with(@from,'room1@')]",
    "/message[body][@from='user1@example.net/phone']",
    "/message[sid:stanza-id/@by='room1@conference']",
    "//body",
    "/message//body",
    "body",
    "self::message",
    "self::message[@type='chat']",
    "*",
    "/*",
    "/*[@id='m1']",
    "/message/body | /iq/disco:query",
    "/message/body|/presence",
    "/message[@type='chat' or @type='normal']",
    "/message[@type='chat' and body]",
    "/message[not(@type='error')]",
    "/message[not(body)]",
    "/message[body or subject]",
    "count(/message/body) > 0",
    "boolean(/message/body)",
    "/message/body/text()",
    "/message/@to",
    "/message[@to]",
    "@type='chat'",
    "@type = 'chat' and body",
    "not(body)",
    "/message[contains(@from,'room')]",
    "/message[starts-with(@from,'')]",
    "/message[@type!='chat']",
    "/message[body='hi']",
    "/message[body='']",
    "/message[thread='t1'][@type='chat']",
    "/message[starts-with(body,'h')]",
    "/message[starts-with(x:x, 'a')]",
    "/message[x:x='']",
    "/message[jc:body='hi']",
    "/message[*='hi']",
    "/message[string-length(@id) > 3]",
    "/message[1]",
    "/message[2]",
    "/message[last()]",
    "/message/*",
    "/message/cs:*",
    "/message/a:*",
    "/iq[@type='get']/disco:query",
    "/iq/*[@node]",
    "/message/x:x/x:item[@jid='u1@x']",
    "/message/x:x/x:item/@jid",
    "/message[x:x/x:item/@role='moderator']",
    "/message[thread]",
    ".//thread",
    "./body",
    ".",
    "/",
    "/message/..",
    "/message/body/..",
    "/message[@xml:lang='en']",
    "/message[@lang='en']",
    "/message[body/@xml:lang]",
    "/message[@to='svc@bench' or @from='svc@bench']",
    "/message[@to='svc@bench'] | /message[@from='svc@bench']",
    "(/message/body)[1]",
    "(/message | /iq)[@type='get']",
    "/message[starts-with(@from, 'room')][@type='groupchat']",
    "/message[@type = \"chat\"]",
    "/message[ @type = 'chat' ]",
    "/message [body]",
    "message",
    "iq",
    "/presence[not(@type)]",
    "/message[@id='m1' and not(@type='error')]",
    "true()",
    "false()",
    "1",
    "'x'",
    "/message[@xmlns='jabber:client']",
    "/message[@xmlns]",
    "/*[local-name()='message']",
    "/*[namespace-uri()='']",
    "/message/body[.='hi']",
    "/message[@to=@from]",
    "/message[@to = /message/@from]",
    "//*[@by]",
    "/message/descendant::body",
    "/message/child::body",
    "child::body",
    "/message/attribute::to",
    "/jc:message",
    "/message/jc:body",
    "/message/a:c[@id='1']",
    "/message[a:c[@id='1']]",
    "/message[a:c/@id='1']",
    "/message[a:c[b:d]]",
    "/message/a:c/b:d",
    "/a:c",
    "/message[body][thread][@type='chat']",
    "/message[@type='chat'][1]",
    "/message[body[1]]",
    "/message[*]",
    "/message[@*]",
    "/message[starts-with(@from,'room1@') or @type='chat']",
    "/message[@a:id='1']",
    "/message/body | /message/thread",
    "/message[@to='svc@bench']/body",
    "/message[not(not(@type='chat'))]",
    "/message[boolean(body)]",
    "/message[.//b:d]",
    "/message[@type='chat']/a:c[@id='1']/b:d",
    "/message[a:c/b:d/@id='2']",
    "/message[@id=1]",
    "/message[@id='1'] = true()",
    "/message[body] = false()",
    "/message[@to != 'svc@bench']",
    "/message[@to < 3]",
    "@to",
    "@to='svc@bench'",
};

const std::vector<std::string> kNames = {"message", "presence", "iq",        "body",
                                         "thread",  "c",        "d",         "item",
                                         "x",       "query",    "stanza-id", "subject"};
const std::vector<std::string> kNamespaces = {
    "",   "jabber:client", "jabber:component:accept", "urn:a", "urn:b", kChatStates, kDisco,
    kMuc, "urn:xmpp:sid:0"};
const std::vector<std::string> kAttrNames = {"to",  "from", "type",     "id",   "by",
                                             "jid", "role", "xml:lang", "node", "lang"};
const std::vector<std::string> kValues = {"chat",       "groupchat",
                                          "get",        "svc@bench",
                                          "room1@conf", "room1@conference",
                                          "room12@x",   "user1@example.net/phone",
                                          "u1@x",       "moderator",
                                          "en",         "m1",
                                          "1",          "2",
                                          "",           "hi",
                                          "room1@"};

// Biased towards what the filters look for: stanzas and children in the content namespace.
Node random_element(std::mt19937& rng, int depth) {
    auto pick = [&](const auto& v) -> const auto& {
        return v[rng() % v.size()];
    };
    const bool usual = rng() % 3 != 0;
    Node n(usual && depth == 0 ? kNames[rng() % 3] : pick(kNames),
           usual ? kNamespaces[rng() % 3] : pick(kNamespaces));
    if (rng() % 8 == 0 && !n.ns().empty() && n.ns().find(':') != std::string::npos) {
        n.set_name("p:" + n.name());
        n.set_attr("xmlns:p", rng() % 6 == 0 ? std::string("urn:other") : n.ns());
    }
    const unsigned attrs = rng() % 5;
    for (unsigned i = 0; i < attrs; ++i)
        n.set_attr(pick(kAttrNames), pick(kValues));
    const unsigned kids = depth < 3 ? rng() % 4 : 0;
    for (unsigned i = 0; i < kids; ++i) {
        if (rng() % 4 == 0)
            n.add_text(pick(kValues));
        else
            n.add_child(random_element(rng, depth + 1));
    }
    return n;
}

std::vector<Node> sample_stanzas() {
    std::vector<Node> out;
    out.push_back(build("message", "jabber:component:accept")
                      .attr("to", "svc@bench")
                      .attr("from", "room1@conference/nick")
                      .attr("type", "groupchat")
                      .attr("id", "m1")
                      .child(build("body").text("hi"))
                      .child(build("stanza-id", "urn:xmpp:sid:0").attr("by", "room1@conference"))
                      .child(build("x", kMuc).child(build("item").attr("role", "moderator"))));
    out.push_back(build("message", "jabber:client")
                      .attr("from", "user1@example.net/phone")
                      .attr("type", "chat")
                      .attr("xml:lang", "en")
                      .child(build("active", kChatStates))
                      .child(build("body").attr("xml:lang", "en").text("hi"))
                      .child(build("thread").text("t1")));
    out.push_back(build("iq").attr("type", "get").child(build("query", kDisco).attr("node", "n")));
    out.push_back(build("presence").attr("from", "room12@x"));
    // Odd stanzas: what the plain-stanza check must send down the old path.
    Node mismatch = build("p:message", "urn:a").attr("xmlns:p", "urn:b").attr("to", "svc@bench");
    out.push_back(mismatch);
    out.push_back(build("message").attr("to", std::string("svc@bench\0x", 11)));
    out.push_back(build("xml:message", "urn:a").child(build("body")));
    Node with_empty = build("message").attr("type", "chat");
    with_empty.add_child(Node());
    with_empty.add_child(build("body").text("hi"));
    out.push_back(with_empty);
    out.push_back(build("message").attr("xmlns", "jabber:client").attr("type", "chat"));
    std::mt19937 rng(6);
    for (int i = 0; i < 1500; ++i)
        out.push_back(random_element(rng, 0));
    return out;
}

} // namespace

TEST_CASE("xpath index: indexed evaluation fires exactly what libxml2 alone fires",
          "[xpath][index]") {
    FilterSet indexed;
    indexed.set_index_above(0); // the index decides even for one filter
    FilterSet brute;
    brute.set_indexing(false);
    brute.set_fast_path(false);
    bind(indexed);
    bind(brute);
    for (std::size_t i = 0; i < kExpressions.size(); ++i) {
        const std::string event = "e" + std::to_string(i);
        indexed.add(event, kExpressions[i]);
        brute.add(event, kExpressions[i]);
    }
    std::size_t fired = 0;
    for (const Node& stanza : sample_stanzas()) {
        const std::vector<Fired> want = run(brute, stanza);
        const std::vector<Fired> got = run(indexed, stanza);
        INFO(stanza.to_string());
        REQUIRE(got == want);
        fired += want.size();
    }
    CHECK(fired > 5000); // the sample exercises the filters
}

TEST_CASE("xpath index: each expression alone gives the same result indexed and not",
          "[xpath][index]") {
    std::vector<Node> stanzas = sample_stanzas();
    stanzas.resize(600);
    for (const std::string& xpath : kExpressions) {
        FilterSet indexed;
        indexed.set_index_above(0); // the index decides even for one filter
        FilterSet few;              // the default: one filter is tried without the index
        FilterSet brute;
        brute.set_indexing(false);
        brute.set_fast_path(false);
        bind(indexed);
        bind(few);
        bind(brute);
        indexed.add("e", xpath);
        few.add("e", xpath);
        brute.add("e", xpath);
        for (const Node& stanza : stanzas) {
            INFO(xpath << " on " << stanza.to_string());
            const std::vector<Fired> want = run(brute, stanza);
            REQUIRE(run(indexed, stanza) == want);
            REQUIRE(run(few, stanza) == want);
        }
    }
}

TEST_CASE("xpath index: a rebound or unbound prefix is followed by the index",
          "[xpath][index][namespace]") {
    FilterSet f;
    f.set_index_above(0);
    f.ns_prefix("p", "urn:a");
    f.add("e", "/message/p:c");
    f.add("k", "/message[p:c/@id='1']");
    const Node a = build("message").child(build("c", "urn:a").attr("id", "1"));
    const Node b = build("message").child(build("c", "urn:b").attr("id", "1"));
    CHECK(run(f, a).size() == 2);
    CHECK(run(f, b).empty());
    f.ns_prefix("p", "urn:b");
    CHECK(run(f, a).empty());
    CHECK(run(f, b).size() == 2);
    f.ns_prefix("p", "");
    CHECK(run(f, a).empty()); // libxml2 fails the evaluation: no match
    CHECK(run(f, b).empty());
}

TEST_CASE("xpath index: the usual filter shapes are indexed by what a stanza must have",
          "[xpath][index][plan]") {
    pcj::detail::PrefixMap prefixes{{"sid", "urn:xmpp:sid:0"}, {"cs", kChatStates}};
    using pcj::detail::make_plan;
    for (const char* xpath :
         {"/message/body", "/message/cs:composing", "/message[@to='svc@bench']",
          "/message[@type='groupchat'][starts-with(@from,'room1@')]",
          "/message[body][@from='user1@example.net/phone']",
          "/message[sid:stanza-id/@by='room1@conference']", "self::message[@type='chat']"}) {
        const pcj::detail::Plan plan = make_plan(xpath, prefixes);
        INFO(xpath);
        CHECK(!plan.keys.empty());
        CHECK(plan.cond.kind != pcj::detail::Cond::Kind::yes);
    }
    for (const char* xpath : {"//body", "count(/message/body) > 0", "1", "*[1]"}) {
        const pcj::detail::Plan plan = make_plan(xpath, prefixes);
        INFO(xpath);
        CHECK(plan.keys.empty());
    }
    // A union is a candidate on stanzas that have either key.
    const pcj::detail::Plan unions = make_plan("/message/body | /iq/cs:active", prefixes);
    CHECK(unions.keys.size() == 2);
}

TEST_CASE("xpath index: a child's text is a key, by its whole value or its start",
          "[xpath][index][plan]") {
    pcj::detail::PrefixMap prefixes{{"sid", "urn:xmpp:sid:0"}};
    using pcj::detail::Atom;
    using pcj::detail::make_plan;
    const pcj::detail::Plan subject = make_plan("/message[subject='Weekly']", prefixes);
    REQUIRE(subject.keys.size() == 1);
    CHECK(subject.keys[0].kind == Atom::Kind::child_text_eq);
    CHECK(subject.keys[0].value == "Weekly");
    const pcj::detail::Plan cmd =
        make_plan("/message[@type='chat'][starts-with(body,'!cmd')]", prefixes);
    REQUIRE(cmd.keys.size() == 1); // the text is more selective than a common type
    CHECK(cmd.keys[0].kind == Atom::Kind::child_text_prefix);
    const pcj::detail::Plan ns = make_plan("/message[sid:stanza-id='x']", prefixes);
    REQUIRE(ns.keys.size() == 1);
    CHECK(ns.keys[0].test.uri == "urn:xmpp:sid:0");
    // The text of a grandchild, or a test with an empty text, is no text key.
    CHECK(make_plan("/message[x/body='a']", prefixes).keys[0].kind != Atom::Kind::child_text_eq);
    CHECK(make_plan("/message[starts-with(body,'')]", prefixes).keys[0].kind == Atom::Kind::root);

    FilterSet f;
    f.set_index_above(0);
    f.add("subject", "/message[subject='Weekly']");
    f.add("cmd", "/message[starts-with(body,'!cmd')]");
    f.add("mixed", "/message[body='ab']");
    CHECK(run(f, build("message").child(build("subject").text("Weekly"))).size() == 1);
    CHECK(run(f, build("message").child(build("subject").text("Weekly!"))).empty());
    CHECK(run(f, build("message").child(build("body").text("!cmd run"))).size() == 1);
    CHECK(run(f, build("message").child(build("body").text(" !cmd"))).empty());
    const Node mixed = build("message").child(build("body").text("a").child(build("i").text("b")));
    CHECK(run(f, mixed).size() == 1);
}

TEST_CASE("xpath index: an unparsable or unbound expression falls back to every stanza",
          "[xpath][index][plan]") {
    const pcj::detail::Plan plan = pcj::detail::make_plan("zz:c", {});
    CHECK(plan.keys.empty());
    // What can still be said is kept: the stanza's name.
    const pcj::detail::Plan rooted = pcj::detail::make_plan("/message/zz:c", {});
    REQUIRE(rooted.keys.size() == 1);
    CHECK(rooted.keys[0].kind == pcj::detail::Atom::Kind::root);
    CHECK(pcj::detail::make_plan("/message[", {}).keys.empty());
}

TEST_CASE("xpath index: one element selected by libxml2 is handed over as the stanza's own",
          "[xpath][index][match]") {
    FilterSet f;
    f.set_index_above(0);
    f.add("e", "/message/body");
    const Node stanza = build("message").child(build("body").text("hi"));
    const Node* seen = nullptr;
    f.evaluate(stanza, [&](std::string_view, std::string_view, std::span<const Node> m) {
        REQUIRE(m.size() == 1);
        seen = &m[0];
    });
    CHECK(seen == &stanza.children()[0]);
}

// The inbound path asks plain_parsed_stanza(), which trusts the parser for what plain_stanza()
// checks on any Node: both must agree on whatever XmlStream delivers, reserved prefixes included.
TEST_CASE("xpath index: a parsed stanza's cheap check agrees with the full one", "[xpath][index]") {
    std::vector<Node> delivered;
    pcj::detail::XmlStream::Callbacks cb;
    cb.on_stream_start = [](const Node&) {
    };
    cb.on_stanza = [&](const Node& n) {
        delivered.push_back(n);
    };
    cb.on_stream_end = [] {
    };
    cb.on_error = [](const pcj::Reason& r) {
        FAIL(r.text);
    };
    pcj::detail::XmlStream xml(std::move(cb), 1 << 20, 64);
    REQUIRE(xml.feed("<stream:stream xmlns='jabber:client' "
                     "xmlns:stream='http://etherx.jabber.org/streams'>"
                     "<message to='a@b' xml:lang='en'><body>hi</body></message>"
                     "<message><xml:x>reserved prefix</xml:x></message>"
                     "<message xmlns:p='urn:p'><p:c p:id='1'><p:d/></p:c></message>"
                     "<iq type='get'><query xmlns='urn:q'><item xmlns=''/></query></iq>"
                     "<presence><x xmlns='urn:x' xmlns:xml2='urn:y'><xml2:z/></x></presence>"
                     "<message><c xmlns='jabber:client'><xml:y/></c></message>"));
    REQUIRE(delivered.size() == 6);
    std::size_t not_plain = 0;
    for (const Node& n : delivered) {
        INFO(n.to_string());
        CHECK(pcj::detail::plain_parsed_stanza(n) == pcj::detail::plain_stanza(n));
        not_plain += pcj::detail::plain_stanza(n) ? 0 : 1;
    }
    CHECK(not_plain == 2); // <xml:x> and <xml:y>: the prefix xml is always the XML namespace
}
