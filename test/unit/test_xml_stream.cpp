// Unit tests for XmlStream: stream events, restarts, chunking, and refusal of hostile input.
#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "xml_stream.hpp"

using pcj::Node;
using pcj::Reason;
using pcj::detail::XmlStream;
using namespace std::string_literals;

namespace {

constexpr const char* streams_ns = "http://etherx.jabber.org/streams";

const std::string stream_open = "<stream:stream xmlns='jabber:client' "
                                "xmlns:stream='http://etherx.jabber.org/streams' id='s1' "
                                "from='example.com' version='1.0' xml:lang='en'>";
const std::string header = "<?xml version='1.0'?>" + stream_open;

// Records every callback in order, and what arrived after an error.
struct Recorder {
    std::vector<Node> headers;
    std::vector<Node> stanzas;
    std::vector<std::string> log;
    std::optional<Reason> error;
    int errors = 0;
    int after_error = 0;

    XmlStream::Callbacks callbacks() {
        XmlStream::Callbacks cb;
        cb.on_stream_start = [this](Node h) {
            note("start:" + h.start_tag());
            headers.push_back(std::move(h));
        };
        cb.on_element = [this](Node n) {
            note("element:" + n.to_string());
            stanzas.push_back(std::move(n));
        };
        cb.on_stream_end = [this] {
            note("end");
        };
        cb.on_error = [this](const Reason& r) {
            ++errors;
            error = r;
            log.push_back("error:" + r.condition);
        };
        return cb;
    }

    void note(std::string what) {
        if (errors > 0)
            ++after_error;
        log.push_back(std::move(what));
    }
};

struct Fixture {
    explicit Fixture(std::size_t max_size = 64 * 1024, std::size_t max_depth = 16)
        : stream(rec.callbacks(), max_size, max_depth) {}
    Recorder rec;
    XmlStream stream;
};

// Feeds the input whole, then checks the failure contract: one on_error with op "xml", the
// condition and a message, nothing after it, and feed() refusing until reset().
void expect_refused(const std::string& input, const std::string& condition,
                    std::size_t max_size = 64 * 1024, std::size_t max_depth = 16) {
    Fixture f(max_size, max_depth);
    CHECK_FALSE(f.stream.feed(input));
    CHECK(f.stream.failed());
    REQUIRE(f.rec.error.has_value());
    CHECK(f.rec.errors == 1);
    CHECK(f.rec.error->op == "xml");
    CHECK(f.rec.error->condition == condition);
    CHECK_FALSE(f.rec.error->text.empty());
    CHECK(f.rec.error->text.back() != '\n');
    CHECK_FALSE(f.stream.feed("<message><body>more</body></message></stream:stream>"));
    CHECK(f.rec.after_error == 0);
    CHECK(f.rec.errors == 1);
}

} // namespace

TEST_CASE("xml_stream: the stream header is delivered with its attributes and namespaces",
          "[xml_stream]") {
    Fixture f;
    CHECK(f.stream.feed(header));
    REQUIRE(f.rec.headers.size() == 1);
    const Node& h = f.rec.headers[0];
    CHECK(h.name() == "stream:stream");
    CHECK(h.ns() == streams_ns);
    CHECK(h.attr("id") == "s1");
    CHECK(h.attr("from") == "example.com");
    CHECK(h.attr("version") == "1.0");
    CHECK(h.attr("xml:lang") == "en");
    CHECK(h.attr("xmlns") == "jabber:client"); // the stream's content namespace
    CHECK(h.attr("xmlns:stream") == streams_ns);
    CHECK(h.children().empty());
    CHECK(f.rec.stanzas.empty());
}

TEST_CASE("xml_stream: each child of the stream arrives whole, whitespace between ignored",
          "[xml_stream]") {
    Fixture f;
    CHECK(f.stream.feed(header +
                        "\n  <message to='a@b' type='chat'><body>hi &amp; bye</body>"
                        "<active xmlns='http://jabber.org/protocol/chatstates'/>"
                        "</message>\n \t<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/>"
                        "</iq> <stream:features><bind "
                        "xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"));
    REQUIRE(f.rec.stanzas.size() == 3);
    const Node& m = f.rec.stanzas[0];
    CHECK(m.name() == "message");
    CHECK(m.ns() == "jabber:client");
    CHECK_FALSE(m.has_attr("xmlns")); // only the header keeps the default namespace as attribute
    CHECK(m.attr("to") == "a@b");
    CHECK(m.child("body")->text() == "hi & bye");
    CHECK(m.child("active", "http://jabber.org/protocol/chatstates") != nullptr);
    CHECK(m.to_string("jabber:client") ==
          "<message to=\"a@b\" type=\"chat\"><body>hi &amp; bye</body>"
          "<active xmlns=\"http://jabber.org/protocol/chatstates\"/></message>");
    CHECK(f.rec.stanzas[1].child("ping", "urn:xmpp:ping") != nullptr);
    const Node& features = f.rec.stanzas[2];
    CHECK(features.name() == "stream:features");
    CHECK(features.ns() == streams_ns);
    CHECK(features.child("bind", "urn:ietf:params:xml:ns:xmpp-bind") != nullptr);
}

TEST_CASE("xml_stream: a stanza is delivered only when its end tag has arrived", "[xml_stream]") {
    Fixture f;
    CHECK(f.stream.feed(header + "<message><body>par"));
    CHECK(f.rec.stanzas.empty());
    CHECK(f.stream.feed("tial</body></mess"));
    CHECK(f.rec.stanzas.empty());
    CHECK(f.stream.feed("age>"));
    REQUIRE(f.rec.stanzas.size() == 1);
    CHECK(f.rec.stanzas[0].child("body")->text() == "partial");
}

TEST_CASE("xml_stream: attribute values, prefixes and mixed content come through intact",
          "[xml_stream]") {
    Fixture f;
    CHECK(f.stream.feed(header + "<message xmlns:x='urn:x' to='a&amp;b' note='&lt;&#38;&quot;' "
                                 "x:k='v' xml:lang='fr'><x:data/>one <b>two</b> "
                                 "<![CDATA[<three>]]></message>"));
    REQUIRE(f.rec.stanzas.size() == 1);
    const Node& m = f.rec.stanzas[0];
    CHECK(m.attr("to") == "a&b");
    CHECK(m.attr("note") == "<&\"");
    CHECK(m.attr("x:k") == "v");
    CHECK(m.attr("xml:lang") == "fr");
    CHECK(m.attr("xmlns:x") == "urn:x");
    CHECK(m.child("x:data", "urn:x") != nullptr);
    REQUIRE(m.children().size() == 4);
    CHECK(m.children()[1].text() == "one ");
    CHECK(m.children()[3].text() == " <three>");
}

TEST_CASE("xml_stream: the stream's end tag is a stream end, never a second stream start",
          "[xml_stream]") {
    // PCJ bugs 13 and 14 (doc/origins.md): LEGACY and J14 took </stream:stream> for a new stream
    // header.
    Fixture f;
    CHECK(f.stream.feed(header + "<message/></stream:stream>"));
    CHECK(f.rec.log.size() == 3);
    CHECK(f.rec.log.back() == "end");
    CHECK(f.rec.headers.size() == 1);
    CHECK_FALSE(f.stream.failed());
    CHECK(f.stream.feed("\n"));
    CHECK(f.rec.headers.size() == 1);
}

TEST_CASE("xml_stream: after reset a new stream header is expected", "[xml_stream]") {
    Fixture f;
    CHECK(f.stream.feed(header + "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"));
    f.stream.reset();
    CHECK(f.stream.feed(header + "<message><body>after</body></message>"));
    REQUIRE(f.rec.headers.size() == 2);
    REQUIRE(f.rec.stanzas.size() == 2);
    CHECK(f.rec.stanzas[1].child("body")->text() == "after");
    CHECK(f.rec.log.size() == 4);
}

TEST_CASE("xml_stream: reset from inside a callback discards the rest of the chunk",
          "[xml_stream]") {
    Recorder rec;
    std::unique_ptr<XmlStream> stream;
    XmlStream::Callbacks cb = rec.callbacks();
    auto record = cb.on_element;
    cb.on_element = [&](Node n) {
        bool restart = n.name() == "success";
        record(std::move(n));
        if (restart)
            stream->reset();
    };
    stream = std::make_unique<XmlStream>(cb, 64 * 1024, 16);
    CHECK(stream->feed(header + "<success/><message><body>lost</body></message>"));
    CHECK(rec.stanzas.size() == 1);
    CHECK_FALSE(stream->failed());
    CHECK(stream->feed(header + "<message><body>kept</body></message>"));
    REQUIRE(rec.stanzas.size() == 2);
    CHECK(rec.stanzas[1].child("body")->text() == "kept");
    CHECK(rec.headers.size() == 2);
}

TEST_CASE("xml_stream: on_error may reset and the stream is usable again", "[xml_stream]") {
    Recorder rec;
    std::unique_ptr<XmlStream> stream;
    XmlStream::Callbacks cb = rec.callbacks();
    auto record_error = cb.on_error;
    cb.on_error = [&](const Reason& r) {
        record_error(r);
        stream->reset();
    };
    stream = std::make_unique<XmlStream>(cb, 64 * 1024, 16);
    CHECK_FALSE(stream->feed(header + "<a></b>"));
    CHECK(rec.errors == 1);
    CHECK_FALSE(stream->failed());
    CHECK(stream->feed(header + "<message/>"));
    CHECK(rec.stanzas.size() == 1);
}

TEST_CASE("xml_stream: a failed stream stays silent until reset", "[xml_stream]") {
    Fixture f;
    CHECK_FALSE(f.stream.feed(header + "<a></b>"));
    CHECK_FALSE(f.stream.feed(header));
    CHECK(f.rec.headers.size() == 1);
    f.stream.reset();
    CHECK_FALSE(f.stream.failed());
    CHECK(f.stream.feed(header + "<a/>"));
    CHECK(f.rec.headers.size() == 2);
    CHECK(f.rec.stanzas.size() == 1);
}

TEST_CASE("xml_stream: feeding one byte at a time gives the same events as all at once",
          "[xml_stream]") {
    const std::string input =
        header +
        " <message to='r\xc3\xa9mi@example.com' note='a&amp;b' gt='1>2'><body>caf\xc3\xa9 "
        "\xe2\x9c\x93 "
        "\xf0\x9f\x98\x80 &lt;tag&gt; &#x263A;</body><x xmlns='urn:x'><![CDATA[raw <&> "
        "\xc3\xa9]]></x></message>\r\n<iq type='result' id='1'/>"
        "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
        "</stream:stream>";
    Recorder whole;
    {
        XmlStream stream(whole.callbacks(), 64 * 1024, 16);
        CHECK(stream.feed(input));
    }
    Recorder bytes;
    {
        XmlStream stream(bytes.callbacks(), 64 * 1024, 16);
        for (char c : input)
            REQUIRE(stream.feed(std::string_view(&c, 1)));
    }
    CHECK(whole.log.size() == 5);
    CHECK(bytes.log == whole.log);
    CHECK(bytes.stanzas == whole.stanzas);
}

TEST_CASE("xml_stream: hostile or broken input ends the stream with the right condition",
          "[xml_stream][hostile]") {
    using Row = std::tuple<std::string, std::string, std::string>;
    auto [what, input, condition] = GENERATE(table<std::string, std::string, std::string>({
        Row{"DOCTYPE", "<?xml version='1.0'?><!DOCTYPE stream:stream>" + header, "restricted-xml"},
        Row{"billion laughs",
            "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
            "<!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
            "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>]>" +
                header + "<message><body>&lol3;</body></message>",
            "restricted-xml"},
        Row{"processing instruction", header + "<?evil data?>", "restricted-xml"},
        Row{"processing instruction in a stanza", header + "<message><?evil?></message>",
            "restricted-xml"},
        Row{"comment", header + "<message><!-- hidden --></message>", "restricted-xml"},
        Row{"undefined entity", header + "<message><body>&foo;</body></message>",
            "not-well-formed"},
        Row{"undefined entity in an attribute", header + "<message to='&foo;'/>",
            "not-well-formed"},
        Row{"invalid UTF-8", header + "<message><body>\xc3\x28 and more text</body></message>",
            "not-well-formed"},
        Row{"overlong UTF-8", header + "<message><body>\xc0\xaf and more text</body></message>",
            "not-well-formed"},
        Row{"mismatched tags", header + "<message><body></message></body>", "not-well-formed"},
        Row{"unbound prefix", header + "<foo:message/>", "not-well-formed"},
        Row{"duplicate attribute", header + "<message to='a' to='b'/>", "not-well-formed"},
        Row{"control character", header + "<message><body>\x01</body></message>",
            "not-well-formed"},
        Row{"garbage after the stream", header + "</stream:stream><message/>", "not-well-formed"},
        Row{"text after the stream", header + "</stream:stream>garbage here", "not-well-formed"},
        Row{"NUL character", header + "<message><body>a\0b</body></message>"s, "not-well-formed"},
        Row{"a declared Latin-1 encoding is still read as UTF-8",
            "<?xml version='1.0' encoding='ISO-8859-1'?>" + stream_open +
                "<message><body>caf\xe9 and more text</body></message>",
            "not-well-formed"},
        Row{"not XML at all", "HTTP/1.1 200 OK\r\n\r\n", "not-well-formed"},
    }));
    CAPTURE(what);
    expect_refused(input, condition);
}

TEST_CASE("xml_stream: the parser's own message explains the failure", "[xml_stream][hostile]") {
    Fixture f;
    CHECK_FALSE(f.stream.feed(header + "<message><body></message>"));
    REQUIRE(f.rec.error.has_value());
    CHECK_THAT(f.rec.error->text, Catch::Matchers::Contains("mismatch"));
}

TEST_CASE("xml_stream: a stanza over max_stanza_size is a policy violation",
          "[xml_stream][hostile]") {
    const std::string big_text(5000, 'x');
    SECTION("in its text") {
        expect_refused(header + "<message><body>" + big_text + "</body></message>",
                       "policy-violation", 4096);
    }
    SECTION("in an attribute") {
        expect_refused(header + "<message to='" + big_text + "'/>", "policy-violation", 4096);
    }
    SECTION("in many small elements") {
        std::string many;
        for (int i = 0; i < 1000; ++i)
            many += "<a/>";
        expect_refused(header + "<message>" + many + "</message>", "policy-violation", 4096);
    }
    SECTION("a stanza under the limit passes") {
        Fixture f(4096);
        CHECK(f.stream.feed(header + "<message><body>" + std::string(3000, 'x') +
                            "</body></message>"));
        CHECK(f.rec.stanzas.size() == 1);
    }
}

TEST_CASE("xml_stream: nesting deeper than max_depth is a policy violation",
          "[xml_stream][hostile]") {
    auto nested = [](int levels) {
        std::string open, close;
        for (int i = 0; i < levels; ++i) {
            open += "<e>";
            close += "</e>";
        }
        return open + close;
    };
    // The stanza itself is level 1.
    Fixture ok(64 * 1024, 8);
    CHECK(ok.stream.feed(header + nested(8)));
    CHECK(ok.rec.stanzas.size() == 1);
    expect_refused(header + nested(9), "policy-violation", 64 * 1024, 8);
    expect_refused(header + nested(100000), "policy-violation", 64 * 1024, 8);
}

TEST_CASE("xml_stream: a huge unterminated attribute value fails instead of growing",
          "[xml_stream][hostile]") {
    Fixture f(4096);
    REQUIRE(f.stream.feed(header + "<message to='"));
    const std::string chunk(1000, 'a');
    std::size_t fed = 0;
    while (fed < 10 * 1024 * 1024 && f.stream.feed(chunk))
        fed += chunk.size();
    REQUIRE(f.rec.error.has_value());
    CHECK(f.rec.error->condition == "policy-violation");
    CHECK_FALSE(f.rec.error->text.empty());
    // Refused as soon as the buffered markup passed the limit, not at the end of the flood.
    CHECK(fed <= 2 * 4096);
}

TEST_CASE("xml_stream: a huge unterminated header or comment fails instead of growing",
          "[xml_stream][hostile]") {
    auto prefix = GENERATE(as<std::string>{}, "<stream:stream from='", header + "<message><!-- ",
                           header + "<message><body>");
    Fixture f(4096);
    REQUIRE(f.stream.feed(prefix));
    const std::string chunk(1000, 'a');
    std::size_t fed = 0;
    while (fed < 10 * 1024 * 1024 && f.stream.feed(chunk))
        fed += chunk.size();
    REQUIRE(f.rec.error.has_value());
    CHECK(f.rec.error->condition == "policy-violation");
    CHECK(fed <= 2 * 4096);
}

TEST_CASE("xml_stream: whitespace keepalives between stanzas never add up to a violation",
          "[xml_stream]") {
    Fixture f(4096);
    REQUIRE(f.stream.feed(header));
    for (int i = 0; i < 20000; ++i)
        REQUIRE(f.stream.feed(" "));
    CHECK(f.stream.feed("<message/>"));
    CHECK(f.rec.stanzas.size() == 1);
    CHECK_FALSE(f.rec.error.has_value());
}

TEST_CASE("xml_stream: an exception from a callback leaves feed() and fails the stream",
          "[xml_stream]") {
    XmlStream::Callbacks cb;
    int elements = 0;
    cb.on_element = [&](Node) {
        ++elements;
        throw std::runtime_error("handler broke");
    };
    XmlStream stream(cb, 64 * 1024, 16);
    CHECK_THROWS_WITH(stream.feed(header + "<a/><b/>"), "handler broke");
    CHECK(elements == 1);
    CHECK(stream.failed());
    CHECK_FALSE(stream.feed("<c/>"));
    stream.reset();
    CHECK_THROWS(stream.feed(header + "<d/>"));
    CHECK(elements == 2);
}

TEST_CASE("xml_stream: a callback may destroy the stream that called it", "[xml_stream]") {
    Recorder rec;
    auto stream = std::make_unique<XmlStream>(XmlStream::Callbacks{}, 64 * 1024, 16);
    XmlStream::Callbacks cb = rec.callbacks();
    auto record = cb.on_element;
    cb.on_element = [&](Node n) {
        record(std::move(n));
        stream.reset(); // the owner drops the connection
    };
    stream = std::make_unique<XmlStream>(cb, 64 * 1024, 16);
    XmlStream* raw = stream.get();
    CHECK_FALSE(raw->feed(header + "<a/><b/><c/>"));
    CHECK(stream == nullptr);
    CHECK(rec.stanzas.size() == 1);
}

// -- lent stanzas (on_stanza): storage reused from one stanza to the next ----------------------

namespace {

// Stanzas of changing shapes, so that every slot is refilled as something else: elements
// become text and back, attributes grow and shrink, namespaces and prefixes change.
const std::string varied_stanzas =
    "<message to='a@b' from='room1@conference.example.net/nick' type='groupchat' id='m1'>"
    "<body>first &amp; longer than fifteen bytes</body>"
    "<stanza-id xmlns='urn:xmpp:sid:0' by='room1@conference.example.net' id='s1'/></message>"
    "<presence/>"
    "<message xml:lang='en'>text<b>x</b>tail &lt;&gt;<active "
    "xmlns='http://jabber.org/protocol/chatstates'/></message>"
    "<iq type='get' id='q&amp;1'><query xmlns='http://jabber.org/protocol/disco#info'>"
    "<item jid='x'/><item jid='y'>deep<i>er</i></item></query></iq>"
    "<p:thing xmlns:p='urn:p' p:attr='v' plain='w'><p:child>t</p:child></p:thing>"
    "<message><body>short</body></message>"
    "<message to='a@b' from='room1@conference.example.net/nick' type='groupchat' id='m1'>"
    "<body>first &amp; longer than fifteen bytes</body>"
    "<stanza-id xmlns='urn:xmpp:sid:0' by='room1@conference.example.net' id='s1'/></message>";

std::vector<Node> parse_with(bool lend, const std::vector<std::string>& chunks) {
    std::vector<Node> out;
    XmlStream::Callbacks cb;
    if (lend)
        cb.on_stanza = [&](const Node& n) {
            out.push_back(n);
        };
    else
        cb.on_element = [&](Node n) {
            out.push_back(std::move(n));
        };
    XmlStream stream(std::move(cb), 64 * 1024, 16);
    for (const std::string& c : chunks)
        REQUIRE(stream.feed(c));
    return out;
}

} // namespace

TEST_CASE("xml_stream: lent stanzas equal handed-over ones, whatever came before them",
          "[xml_stream][lend]") {
    const std::string all = header + varied_stanzas + varied_stanzas;
    std::vector<std::string> bytes;
    for (char c : all)
        bytes.emplace_back(1, c);
    const std::vector<Node> want = parse_with(false, {all});
    REQUIRE(want.size() == 14);
    CHECK(parse_with(true, {all}) == want);
    CHECK(parse_with(true, bytes) == want);
    CHECK(want[2].children()[0].text() == "text");
    CHECK(want[4].attr("p:attr") == "v");
    CHECK(want[3].attr("id") == "q&1");
    CHECK(want[5].to_string("jabber:client") == "<message><body>short</body></message>");
}

TEST_CASE("xml_stream: a lent stanza stays intact while its callback restarts and feeds",
          "[xml_stream][lend]") {
    std::vector<std::string> seen;
    std::unique_ptr<XmlStream> stream;
    XmlStream::Callbacks cb;
    bool nested = false;
    cb.on_stanza = [&](const Node& n) {
        const std::string before = n.to_string();
        if (!nested) {
            nested = true;
            stream->reset();
            CHECK(stream->feed(header + "<message id='inner'><body>other</body></message>"));
        }
        CHECK(n.to_string() == before);
        seen.push_back(before);
    };
    stream = std::make_unique<XmlStream>(std::move(cb), 64 * 1024, 16);
    REQUIRE(stream->feed(header + "<message id='outer'><body>one</body></message>"));
    REQUIRE(stream->feed("<message id='after'><body>two</body></message>"));
    REQUIRE(seen.size() == 3);
    const std::string ns = " xmlns=\"jabber:client\"";
    CHECK(seen[0] == "<message" + ns + " id=\"inner\"><body>other</body></message>");
    CHECK(seen[1] == "<message" + ns + " id=\"outer\"><body>one</body></message>");
    CHECK(seen[2] == "<message" + ns + " id=\"after\"><body>two</body></message>");
}

TEST_CASE("xml_stream: a trimmed stream resumes with the same namespaces and no second header",
          "[xml_stream][trim]") {
    const std::string rest = "<message><body>a &amp; b</body></message>"
                             "<stream:error><conflict "
                             "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
                             "</stream:stream>";
    Fixture whole;
    REQUIRE(whole.stream.feed(header + "<presence/>" + rest));

    Fixture f;
    CHECK_FALSE(f.stream.trim()); // no stream yet
    REQUIRE(f.stream.feed(header + "<presence/><message><body>half"));
    CHECK_FALSE(f.stream.trim()); // inside a stanza
    f.rec.log.clear();
    Fixture g;
    REQUIRE(g.stream.feed(header + "<presence/>"));
    CHECK(g.stream.trim());
    CHECK_FALSE(g.stream.trim()); // nothing left to free
    REQUIRE(g.stream.feed(rest.substr(0, 20)));
    CHECK(g.stream.trim() == false); // a stanza is open again
    REQUIRE(g.stream.feed(rest.substr(20)));
    CHECK(g.rec.log == whole.rec.log);
    CHECK(g.rec.headers.size() == 1);
    REQUIRE(g.rec.stanzas.size() == 3);
    CHECK(g.rec.stanzas[2].ns() == streams_ns);
    CHECK(g.rec.errors == 0);
}

TEST_CASE("xml_stream: after a trim, reset still expects a new header", "[xml_stream][trim]") {
    Fixture f;
    REQUIRE(f.stream.feed(header + "<presence/>"));
    REQUIRE(f.stream.trim());
    f.stream.reset();
    REQUIRE(f.stream.feed(header + "<iq type='get' id='1'/>"));
    CHECK(f.rec.headers.size() == 2);
    CHECK(f.rec.stanzas.size() == 2);
    CHECK(f.rec.errors == 0);
}
