// XmlStream's inside, shared by xml_stream.cpp (feeding and the parser's life) and
// xml_stream_sax.cpp (the SAX callbacks that build the stream's nodes).
#pragma once

#include "xml_stream.hpp"

#include <algorithm>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "node_access.hpp"
#include "tag_scanner.hpp"

namespace pcj::detail {

namespace xml_stream_detail {

// Input is handed to libxml2 in slices so that a single huge read cannot sit in its buffer
// unchecked: the unconsumed bytes are measured after every slice. Small slices are also
// cheaper: libxml2 moves the unparsed rest of its buffer forward every 4 KB it consumes, so a
// 16 KB slice costs it about 500 more instructions per stanza than four 4 KB ones (callgrind).
constexpr std::size_t min_slice = 4 * 1024;
constexpr std::size_t max_slice = 4 * 1024;

// libxml2 interns every element, attribute and prefix name of a stream in a dictionary that
// lives as long as the parser; a peer inventing new names in each stanza would grow it forever.
constexpr int max_distinct_names = 50000;

// What an element and an attribute count towards max_stanza_size besides their names and
// values: about what they cost to parse and hold. Parsing is linear in the elements and
// attributes rather than in the bytes, so a megabyte of "<a/>" cost 200 ms when each counted
// its 7 bytes; weighed like this, no stanza within the default size costs much over 10 ms.
constexpr std::size_t element_weight = 64;
constexpr std::size_t attribute_weight = 32;

// Namespace URIs remembered per parser; a peer inventing more gets a fresh string each time.
constexpr std::size_t max_cached_namespaces = 32;

inline std::string_view view(const xmlChar* s) {
    return s ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view{};
}

inline std::string_view view(const xmlChar* begin, const xmlChar* end) {
    return {reinterpret_cast<const char*>(begin), static_cast<std::size_t>(end - begin)};
}

// Builds "prefix:local" (or just "local") into out, reusing its capacity.
inline std::string_view qualified(std::string& out, const xmlChar* prefix, const xmlChar* local) {
    if (!prefix)
        return view(local);
    out.assign(view(prefix));
    out.push_back(':');
    out.append(view(local));
    return out;
}

inline void attribute_value(std::string& out, const xmlChar* begin, const xmlChar* end) {
    unescape_amp(out, view(begin, end));
}

using SharedNs = std::shared_ptr<const std::string>;

inline std::string trimmed(const char* message) {
    std::string msg = message ? message : "";
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    auto last = msg.find_last_not_of(" \t\r");
    msg.erase(last == std::string::npos ? 0 : last + 1);
    auto first = msg.find_first_not_of(" \t\r");
    msg.erase(0, first == std::string::npos ? msg.size() : first);
    return msg.empty() ? std::string("not well-formed") : msg;
}

inline void init_libxml2_once() {
    // xmlInitParser must run once before libxml2 is used from more than one thread. Its
    // counterpart xmlCleanupParser is never called: other users of libxml2 may share the process.
    static std::once_flag once;
    std::call_once(once, [] { xmlInitParser(); });
}

} // namespace xml_stream_detail

using namespace xml_stream_detail; // XmlStream::Impl and its two files use these names

struct XmlStream::Impl {
    struct Pending {
        const char* condition;
        std::string text;
    };

    Impl(Callbacks callbacks, const Limits& limits)
        : cb(std::move(callbacks)), max_stanza_size(limits.max_stanza_size),
          max_depth(limits.max_depth), max_ns_decls(limits.max_namespace_declarations),
          max_time(limits.max_stanza_time),
          slice(std::clamp(limits.max_stanza_size, min_slice, max_slice)),
          scanner(limits.max_attributes) {
        init_libxml2_once();
    }

    ~Impl() {
        free_parsers();
        if (ctxt)
            xmlFreeParserCtxt(ctxt);
    }

    Callbacks cb;
    const std::size_t max_stanza_size;
    const std::size_t max_depth;
    const std::size_t max_ns_decls;
    const std::chrono::milliseconds max_time;
    const std::size_t slice;
    TagScanner scanner;

    // When the stanza (or header) now arriving began: set by the first byte after the previous
    // stanza, cleared when nothing is left half-received.
    using Clock = std::chrono::steady_clock;
    std::optional<Clock::time_point> arriving_since;
    Clock::time_point now; // when the current feed() began
    std::size_t stanza_ns_decls = 0;
    std::string root_local; // the stream root, to recognise a second header inside the stream
    std::string root_uri;

    xmlParserCtxtPtr ctxt = nullptr;
    std::vector<xmlParserCtxtPtr> retired; // stopped parsers that may still be on the stack
    unsigned generation = 0;               // bumped whenever the current parser is dropped
    unsigned failures = 0;
    unsigned feeding = 0; // nesting of feed() calls (a callback may feed again)
    bool failed = false;
    bool stopped = false;   // ignore whatever the current parser still reports
    bool orphaned = false;  // the owning XmlStream was destroyed from inside a callback
    bool replaying = false; // a new parser is being given the stream's start tag again
    std::string resume_tag; // that start tag: the root's name and namespace declarations
    bool parked = false;    // the parser was freed between stanzas; resume on the next feed

    // An open element of the stanza, and how many of its children this stanza has filled so
    // far: the children beyond are left over from an earlier stanza, to be refilled or dropped.
    struct Open {
        Node* node;
        std::size_t used;
    };

    // The stream being parsed. depth counts the open elements, the stream root included.
    std::size_t depth = 0;
    std::unique_ptr<Node> building; // the stanza being parsed; kept for the next one
    std::vector<Open> open;         // the stanza's open elements, innermost last
    std::vector<Node> spare_nodes;  // dropped nodes, kept with their storage while a read lasts
    std::vector<Node::Attribute> spare_attrs;
    // Namespace URIs by the pointer libxml2 hands over. A pointer its dictionary owns always
    // names the same text while the parser lives; any other is compared by text as well.
    struct CachedNs {
        const xmlChar* key;
        bool interned;
        SharedNs ns;
    };
    std::vector<CachedNs> namespaces;
    SharedNs uncached_ns;
    std::size_t stanza_bytes = 0;
    std::string scratch;
    std::optional<Pending> pending; // a refusal found inside libxml2, reported once it returns
    std::exception_ptr thrown;      // an exception caught inside libxml2, rethrown by feed()

    bool feed(std::string_view data);
    void reset();
    void orphan();
    bool trim();

private:
    bool start_parser();
    bool parse_slice(std::string_view bytes);
    bool after_chunk();
    void check_time();
    bool finish_feed(bool ok);
    void fail(const char* condition, std::string text);
    void refuse(const char* condition, std::string text);
    void retire_parser();
    void free_parsers();
    void clear_stream_state();
    std::size_t unconsumed() const;
    std::string parser_message() const;

    void start_element(const xmlChar* local, const xmlChar* prefix, const xmlChar* uri, int nb_ns,
                       const xmlChar** ns, int nb_attrs, const xmlChar** attrs);
    void start_stream(std::string_view name, const xmlChar* uri, int nb_ns, const xmlChar** ns,
                      int nb_attrs, const xmlChar** attrs);
    void add_attributes(Node& el, int nb_ns, const xmlChar** ns, int nb_attrs,
                        const xmlChar** attrs, bool keep_default_ns);
    Node::Attribute& next_attribute(std::vector<Node::Attribute>& list, std::size_t& used) {
        if (used < list.size())
            return list[used++];
        return new_attribute(list, used);
    }
    Node::Attribute& new_attribute(std::vector<Node::Attribute>& list, std::size_t& used);
    Node& next_child(Open& parent) {
        auto& children = parent.node->children();
        if (parent.used < children.size())
            return children[parent.used++];
        return new_child(parent);
    }
    Node& new_child(Open& parent);
    // Children beyond `keep` belong to an earlier stanza: set aside with their storage.
    void drop_rest(std::vector<Node>& children, std::size_t keep) {
        if (children.size() > keep)
            spare_children(children, keep);
    }
    void spare_children(std::vector<Node>& children, std::size_t keep);
    void release_storage();
    // The common case, a URI seen before, inline; the rest (and none) out of line.
    const SharedNs& namespace_of(const xmlChar* uri) {
        for (const CachedNs& c : namespaces) {
            if (c.key == uri && c.interned)
                return c.ns;
        }
        return new_namespace(uri);
    }
    const SharedNs& new_namespace(const xmlChar* uri);
    void deliver();
    void end_element();
    void characters(const xmlChar* ch, int len);
    bool over_limit() { return stanza_bytes > max_stanza_size && refuse_oversized(); }
    bool refuse_oversized();

    template <class F> static void guarded(void* ctx, F&& f) noexcept;

    static void on_start(void* ctx, const xmlChar* local, const xmlChar* prefix, const xmlChar* uri,
                         int nb_ns, const xmlChar** ns, int nb_attrs, int nb_defaulted,
                         const xmlChar** attrs);
    static void on_end(void* ctx, const xmlChar* local, const xmlChar* prefix, const xmlChar* uri);
    static void on_characters(void* ctx, const xmlChar* ch, int len);
    static void on_subset(void* ctx, const xmlChar* name, const xmlChar* ext_id,
                          const xmlChar* system_id);
    static void on_entity_decl(void* ctx, const xmlChar* name, int type, const xmlChar* public_id,
                               const xmlChar* system_id, xmlChar* content);
    static void on_unparsed_entity_decl(void* ctx, const xmlChar* name, const xmlChar* public_id,
                                        const xmlChar* system_id, const xmlChar* notation);
    static void on_pi(void* ctx, const xmlChar* target, const xmlChar* data);
    static void on_comment(void* ctx, const xmlChar* value);
    static void on_error(void* ctx, xmlErrorPtr error);
    static xmlSAXHandler* sax_handler();
};

// -- feeding ---------------------------------------------------------------------------------

} // namespace pcj::detail
