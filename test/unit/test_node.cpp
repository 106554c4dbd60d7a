// Unit tests for Node: building, attributes, children, escaping, namespaces on output, parsing.
#include <catch2/catch.hpp>

#include <string>

#include "pcj/error.hpp"
#include "pcj/node.hpp"

using Catch::Matchers::Contains;
using pcj::build;
using pcj::Node;

namespace {
constexpr const char* client_ns = "jabber:client";
constexpr const char* streams_ns = "http://etherx.jabber.org/streams";
} // namespace

TEST_CASE("node: a default-constructed node is empty and neither element nor text", "[node]") {
    Node n;
    CHECK(n.empty());
    CHECK_FALSE(n.is_text());
    CHECK(Node("a").empty() == false);
    CHECK(Node::text_node("").empty() == false);
}

TEST_CASE("node: a qualified name splits into prefix and local name", "[node][names]") {
    Node plain("message", client_ns);
    CHECK(plain.name() == "message");
    CHECK(plain.local_name() == "message");
    CHECK(plain.prefix().empty());
    CHECK(plain.ns() == client_ns);

    Node prefixed("stream:features", streams_ns);
    CHECK(prefixed.local_name() == "features");
    CHECK(prefixed.prefix() == "stream");
}

TEST_CASE("node: the builder reads like the XML it makes", "[node][builder]") {
    Node m = build("message")
                 .attr("to", "juliet@example.com")
                 .attr("type", "chat")
                 .child(build("body").text("hi"));
    CHECK(m.to_string() ==
          R"(<message to="juliet@example.com" type="chat"><body>hi</body></message>)");

    auto b = build("iq");
    b.attr("type", "get").child(Node("ping", "urn:xmpp:ping"));
    Node iq = std::move(b).build();
    CHECK(iq.to_string() == R"(<iq type="get"><ping xmlns="urn:xmpp:ping"/></iq>)");
}

TEST_CASE("node: attributes keep insertion order and are replaced in place", "[node][attributes]") {
    Node n("iq");
    n.set_attr("type", "get").set_attr("id", "1").set_attr("to", "a@b");
    n.set_attr("id", "2");
    REQUIRE(n.attributes().size() == 3);
    CHECK(n.attributes()[1] == Node::Attribute{"id", "2"});
    CHECK(n.attr("id") == "2");
    CHECK(n.has_attr("to"));
    CHECK(n.attr("missing").empty());
    CHECK(n.find_attr("missing") == nullptr);
    REQUIRE(n.find_attr("type") != nullptr);
    CHECK(*n.find_attr("type") == "get");
}

TEST_CASE("node: removing an attribute reports whether it was there", "[node][attributes]") {
    Node n("iq");
    n.set_attr("type", "get").set_attr("id", "1");
    CHECK(n.remove_attr("type"));
    CHECK_FALSE(n.remove_attr("type"));
    CHECK_FALSE(n.has_attr("type"));
    CHECK(n.to_string() == R"(<iq id="1"/>)");
}

TEST_CASE("node: children are found by name and, when given, namespace", "[node][children]") {
    Node q("query", "jabber:iq:roster");
    q.add_child("item").set_attr("jid", "a@b");
    q.add_child("x", "jabber:x:data").set_attr("n", "1");
    q.add_child("x", "jabber:x:oob").set_attr("n", "2");

    REQUIRE(q.child("item") != nullptr);
    CHECK(q.child("item")->attr("jid") == "a@b");
    CHECK(q.child("x")->attr("n") == "1");
    CHECK(q.child("x", "jabber:x:oob")->attr("n") == "2");
    CHECK(q.child("x", "urn:none") == nullptr);
    CHECK(q.child("nothing") == nullptr);

    Node* mutable_child = q.child("item");
    REQUIRE(mutable_child != nullptr);
    mutable_child->set_attr("name", "A");
    CHECK(q.child("item")->attr("name") == "A");
}

TEST_CASE("node: add_child returns the new child so that building can descend",
          "[node][children]") {
    Node iq("iq");
    Node& bind = iq.add_child("bind", "urn:ietf:params:xml:ns:xmpp-bind");
    bind.add_child("resource").add_text("home");
    CHECK(
        iq.to_string() ==
        R"(<iq><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>home</resource></bind></iq>)");
}

TEST_CASE("node: mixed content keeps text and elements in document order", "[node][text]") {
    Node p("p");
    p.add_text("Hello ");
    p.add_child("b").add_text("big");
    p.add_text(" world");
    p.add_text("!");
    REQUIRE(p.children().size() == 3);
    CHECK(p.children()[0].is_text());
    CHECK(p.children()[2].text() == " world!");
    CHECK(p.text() == "Hello  world!");
    CHECK(p.elements().size() == 1);
    CHECK(p.elements()[0]->name() == "b");
    CHECK(p.to_string() == "<p>Hello <b>big</b> world!</p>");
}

TEST_CASE("node: set_text replaces every child with one text", "[node][text]") {
    Node body("body");
    body.add_child("x");
    body.add_text("old");
    body.set_text("new");
    REQUIRE(body.children().size() == 1);
    CHECK(body.text() == "new");
    body.set_text("");
    CHECK(body.children().empty());
    CHECK(body.to_string() == "<body/>");
}

TEST_CASE("node: adjacent text children are merged like a parser would", "[node][text]") {
    Node a("a");
    a.add_child(Node::text_node("x"));
    a.add_child(Node::text_node("y"));
    a.add_text("");
    REQUIRE(a.children().size() == 1);
    CHECK(a == Node::parse("<a>xy</a>"));
}

TEST_CASE("node: append_escaped escapes the five XML special characters", "[node][escape]") {
    std::string out = "prefix:";
    pcj::append_escaped(out, R"(a&b<c>d"e'f)");
    CHECK(out == "prefix:a&amp;b&lt;c&gt;d&quot;e&apos;f");
    std::string plain;
    pcj::append_escaped(plain, "caf\xc3\xa9 ok");
    CHECK(plain == "caf\xc3\xa9 ok");
}

TEST_CASE("node: text and attribute values are escaped on output", "[node][escape]") {
    Node m = build("message").attr("to", R"(a"b'<c>&d)").child(build("body").text("1 < 2 & 3 > 2"));
    std::string xml = m.to_string();
    CHECK(
        xml ==
        R"(<message to="a&quot;b&apos;&lt;c&gt;&amp;d"><body>1 &lt; 2 &amp; 3 &gt; 2</body></message>)");
    CHECK(Node::parse(xml) == m);
}

TEST_CASE("node: a default namespace is declared only where it changes", "[node][ns]") {
    Node m("message", client_ns);
    m.add_child("body", client_ns).add_text("hi");
    m.add_child("active", "http://jabber.org/protocol/chatstates");
    m.add_child("thread").add_text("t1"); // no namespace: takes the inherited one

    CHECK(m.to_string() == "<message xmlns=\"jabber:client\"><body>hi</body>"
                           "<active xmlns=\"http://jabber.org/protocol/chatstates\"/>"
                           "<thread>t1</thread></message>");
    // Inside a jabber:client stream the stanza needs no declaration at all.
    CHECK(m.to_string(client_ns) == "<message><body>hi</body>"
                                    "<active xmlns=\"http://jabber.org/protocol/chatstates\"/>"
                                    "<thread>t1</thread></message>");
}

TEST_CASE("node: children inherit the namespace their parent declared", "[node][ns]") {
    Node q("query", "jabber:iq:roster");
    q.add_child("item", "jabber:iq:roster");
    Node& x = q.add_child("x", "jabber:x:data");
    x.add_child("field", "jabber:x:data");
    x.add_child("item", "jabber:iq:roster");
    CHECK(q.to_string(client_ns) ==
          "<query xmlns=\"jabber:iq:roster\"><item/><x xmlns=\"jabber:x:data\"><field/>"
          "<item xmlns=\"jabber:iq:roster\"/></x></query>");
}

TEST_CASE("node: a prefixed element writes no default namespace and passes the inherited one on",
          "[node][ns]") {
    Node err("stream:error", streams_ns);
    err.add_child("conflict", "urn:ietf:params:xml:ns:xmpp-streams");
    err.add_child("text", client_ns).add_text("bye");
    CHECK(err.to_string(client_ns) == "<stream:error><conflict "
                                      "xmlns=\"urn:ietf:params:xml:ns:xmpp-streams\"/>"
                                      "<text>bye</text></stream:error>");
}

TEST_CASE("node: start_tag writes a stream header open, never closed", "[node][ns]") {
    Node header = build("stream:stream", streams_ns)
                      .attr("to", "localhost")
                      .attr("version", "1.0")
                      .attr("xmlns", client_ns)
                      .attr("xmlns:stream", streams_ns);
    header.add_child("ignored");
    CHECK(header.start_tag() == "<stream:stream to=\"localhost\" version=\"1.0\" "
                                "xmlns=\"jabber:client\" "
                                "xmlns:stream=\"http://etherx.jabber.org/streams\">");
    Node empty("a", "urn:a");
    CHECK(empty.start_tag() == "<a xmlns=\"urn:a\">");
    CHECK(empty.start_tag("urn:a") == "<a>");
}

TEST_CASE("node: an explicit xmlns attribute is written when the node has no namespace of its own",
          "[node][ns]") {
    // The PCJ way of building: setAttribute('xmlns', …).
    Node auth =
        build("auth").attr("xmlns", "urn:ietf:params:xml:ns:xmpp-sasl").attr("mechanism", "PLAIN");
    auth.add_child("x", "urn:ietf:params:xml:ns:xmpp-sasl");
    CHECK(auth.to_string(client_ns) ==
          R"(<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN"><x/></auth>)");
    // With a namespace of its own, the node's ns() wins and no duplicate appears.
    Node both = build("auth", "urn:b").attr("xmlns", "urn:stale");
    CHECK(both.to_string() == R"(<auth xmlns="urn:b"/>)");
}

TEST_CASE("node: append_to appends to what the buffer already holds", "[node][output]") {
    std::string out = "<x>";
    Node("a").append_to(out);
    Node::text_node("&").append_to(out);
    CHECK(out == "<x><a/>&amp;");
}

TEST_CASE("node: parsing keeps names, namespaces, attributes and prefix declarations",
          "[node][parse]") {
    Node m = Node::parse("<message xmlns='jabber:client' xmlns:x='urn:x' to='a@b' xml:lang='en'>"
                         "<body>hi</body><x:data x:k='v'/><active "
                         "xmlns='http://jabber.org/protocol/chatstates'/></message>");
    CHECK(m.name() == "message");
    CHECK(m.ns() == client_ns);
    CHECK(m.attr("to") == "a@b");
    CHECK(m.attr("xml:lang") == "en");
    CHECK(m.attr("xmlns:x") == "urn:x");
    CHECK_FALSE(m.has_attr("xmlns")); // the default namespace is ns()
    REQUIRE(m.elements().size() == 3);
    CHECK(m.child("body")->ns() == client_ns);
    const Node* data = m.child("x:data");
    REQUIRE(data != nullptr);
    CHECK(data->ns() == "urn:x");
    CHECK(data->prefix() == "x");
    CHECK(data->attr("x:k") == "v");
    CHECK(m.child("active", "http://jabber.org/protocol/chatstates") != nullptr);
}

TEST_CASE("node: parse and to_string round-trip", "[node][parse]") {
    auto xml =
        GENERATE(as<std::string>{},
                 "<message xmlns=\"jabber:client\" to=\"a@b\" type=\"chat\"><body>hi &amp; "
                 "bye</body></message>",
                 "<p xmlns=\"urn:p\">Hello <b>big</b> world<i/>!</p>",
                 "<iq xmlns=\"jabber:client\" xmlns:x=\"urn:x\"><x:q x:a=\"1\"/></iq>",
                 "<a xmlns=\"urn:a\" v=\"&lt;&amp;&quot;&apos;&gt;\">caf\xc3\xa9 \xe2\x9c\x93</a>",
                 "<a xmlns=\"urn:a\"><b xmlns=\"urn:b\"><c/></b><d/></a>");
    Node parsed = Node::parse(xml);
    CHECK(parsed.to_string() == xml);
    CHECK(Node::parse(parsed.to_string()) == parsed);
}

TEST_CASE("node: parsing turns references and CDATA into plain text", "[node][parse]") {
    Node a = Node::parse("<a t='x&amp;y &#38; &#x41;'>1 &lt; 2 &#65;<![CDATA[<raw>&]]></a>");
    CHECK(a.attr("t") == "x&y & A");
    REQUIRE(a.children().size() == 1);
    CHECK(a.text() == "1 < 2 A<raw>&");
}

TEST_CASE("node: parsing refuses what is not one well-formed element", "[node][parse]") {
    auto bad =
        GENERATE(as<std::string>{}, "", "<a>", "<a></b>", "<a/><b/>", "text only",
                 "<a>&undefined;</a>", "<a x='1' x='2'/>",
                 "<!DOCTYPE a [<!ENTITY e 'boom'>]><a>&e;</a>", "<?pi x?><a/>", "<a>\xff\xfe</a>");
    CAPTURE(bad);
    try {
        Node::parse(bad);
        FAIL("no ParseError");
    } catch (const pcj::ParseError& e) {
        CHECK(std::string(e.what()).size() > 0);
    }
}

TEST_CASE("node: a parse error carries libxml2's message", "[node][parse]") {
    CHECK_THROWS_WITH(Node::parse("<a></b>"), Contains("mismatch"));
    CHECK_THROWS_WITH(Node::parse("<!DOCTYPE a><a/>"), Contains("DTD"));
}

TEST_CASE("node: equality compares the whole tree, attribute order aside", "[node][equality]") {
    Node a = build("m", "urn:m").attr("x", "1").attr("y", "2").child(build("c").text("t"));
    Node b = build("m", "urn:m").attr("y", "2").attr("x", "1").child(build("c").text("t"));
    CHECK(a == b);
    Node other_value = Node(b).set_attr("x", "3");
    Node other_ns =
        build("m", "urn:other").attr("x", "1").attr("y", "2").child(build("c").text("t"));
    Node other_text = build("m", "urn:m").attr("x", "1").attr("y", "2").child(build("c").text("u"));
    Node no_child = build("m", "urn:m").attr("x", "1").attr("y", "2");
    Node extra_attr = Node(a).set_attr("z", "3");
    CHECK_FALSE(a == other_value);
    CHECK_FALSE(a == other_ns);
    CHECK_FALSE(a == other_text);
    CHECK_FALSE(a == no_child);
    CHECK_FALSE(a == extra_attr);
    CHECK_FALSE(extra_attr == a);
    CHECK_FALSE(Node::text_node("a") == Node("a"));
    CHECK(Node::text_node("a") == Node::text_node("a"));
}

TEST_CASE("node: copies are deep", "[node][equality]") {
    Node a = build("m").child(build("c").text("t"));
    Node b = a;
    b.children()[0].set_text("changed");
    CHECK(a.child("c")->text() == "t");
    CHECK_FALSE(a == b);
}
