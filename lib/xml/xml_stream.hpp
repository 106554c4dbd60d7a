// XmlStream: the incremental XMPP stream parser on libxml2's push parser (SAX2).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "pcj/events.hpp"
#include "pcj/node.hpp"

namespace pcj::detail {

// Depth 0 is the stream: its start tag is delivered as a header Node (no children), each
// complete child of the stream as one Node, and the stream's end tag as a stream end — never as
// a new stream start. Whitespace between stanzas is ignored.
//
// The header Node is named as on the wire ("stream:stream"), its ns() is the stream namespace,
// and it carries the attributes (id, from, version, xml:lang, …) plus the namespace
// declarations: "xmlns:stream" and — on the header only — "xmlns", the stream's content
// namespace (jabber:client, jabber:component:accept, …). In a stanza, the default namespace is
// its ns() and never an attribute; prefix declarations (xmlns:foo) stay attributes.
//
// Hardened (RFC 6120 §11.1): a DTD, an entity declaration, a processing instruction, a comment,
// a stanza over max_stanza_size bytes, nesting deeper than max_depth (the stanza is level 1),
// invalid UTF-8 or malformed XML (an undefined entity or an unbound prefix included) each end the
// stream: on_error is called once, with op "xml", a condition ("restricted-xml",
// "policy-violation" or "not-well-formed") and the parser's message; after that no callback
// fires and feed() returns false until reset(). Markup libxml2 holds back while waiting for its
// end (an unterminated tag, comment or text) counts towards max_stanza_size, so memory stays
// bounded however the peer splits its bytes.
//
// Also bounded (Limits): the attributes and namespace declarations of one start tag (counted on
// the raw bytes, before libxml2's quadratic duplicate check sees them), the namespace
// declarations of one stanza, and the time one stanza (or the header) may take to arrive,
// checked whenever bytes arrive: each ends the stream with "policy-violation". A second stream
// header inside the stream ends it with "invalid-xml".
//
// Callbacks may call reset() or feed(), and may destroy the XmlStream. An exception thrown by a
// callback stops parsing, leaves the stream failed (without on_error) and is rethrown by feed().
class XmlStream {
public:
    struct Callbacks {
        std::function<void(Node header)> on_stream_start;
        // Each stanza, handed over. When on_stanza is set, it is called instead: the stanza is
        // only lent for the call (a callback that keeps it copies it), and its storage — the
        // nodes, their strings and vectors — is refilled with the next stanza of the same read,
        // which saves nearly every allocation of parsing.
        std::function<void(Node stanza)> on_element;
        std::function<void(const Node& stanza)> on_stanza;
        std::function<void()> on_stream_end;
        std::function<void(const Reason& reason)> on_error;
    };

    struct Limits {
        std::size_t max_stanza_size = 1024 * 1024;
        std::size_t max_depth = 64;
        std::size_t max_attributes = 64;              // per start tag, declarations included
        std::size_t max_namespace_declarations = 64;  // per stanza
        std::chrono::milliseconds max_stanza_time{0}; // zero: no limit
    };

    XmlStream(Callbacks callbacks, Limits limits);
    // The other limits at their defaults, and no time limit.
    XmlStream(Callbacks callbacks, std::size_t max_stanza_size, std::size_t max_depth);
    ~XmlStream();
    XmlStream(const XmlStream&) = delete;
    XmlStream& operator=(const XmlStream&) = delete;

    // Parses the bytes; callbacks fire from inside. Returns false once the stream has failed.
    // A callback may call reset(): parsing of the current chunk stops there and the rest of the
    // chunk is discarded (a peer must wait for our new header after a restart anyway).
    bool feed(std::string_view data);

    // Forgets everything and expects a new stream header (a stream restart, or a new
    // connection). Safe to call from inside a callback.
    void reset();

    bool failed() const;

    // Frees the libxml2 parser (about 15 KB with its buffers and dictionary) while the stream
    // is between stanzas and nothing is left unparsed; the next feed() makes a new one and
    // replays the stream's start tag into it, without a second on_stream_start. Returns
    // whether it did. Meant for idle connections: a new parser costs a few microseconds. Does
    // nothing when called from inside a callback.
    bool trim();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace pcj::detail
