// XmlStream: libxml2's SAX2 push parser turned into stream header, stanza and stream end events.
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

namespace {

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

std::string_view view(const xmlChar* s) {
    return s ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view{};
}

std::string_view view(const xmlChar* begin, const xmlChar* end) {
    return {reinterpret_cast<const char*>(begin), static_cast<std::size_t>(end - begin)};
}

// Builds "prefix:local" (or just "local") into out, reusing its capacity.
std::string_view qualified(std::string& out, const xmlChar* prefix, const xmlChar* local) {
    if (!prefix)
        return view(local);
    out.assign(view(prefix));
    out.push_back(':');
    out.append(view(local));
    return out;
}

void attribute_value(std::string& out, const xmlChar* begin, const xmlChar* end) {
    unescape_amp(out, view(begin, end));
}

using SharedNs = std::shared_ptr<const std::string>;

std::string trimmed(const char* message) {
    std::string msg = message ? message : "";
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    auto last = msg.find_last_not_of(" \t\r");
    msg.erase(last == std::string::npos ? 0 : last + 1);
    auto first = msg.find_first_not_of(" \t\r");
    msg.erase(0, first == std::string::npos ? msg.size() : first);
    return msg.empty() ? std::string("not well-formed") : msg;
}

void init_libxml2_once() {
    // xmlInitParser must run once before libxml2 is used from more than one thread. Its
    // counterpart xmlCleanupParser is never called: other users of libxml2 may share the process.
    static std::once_flag once;
    std::call_once(once, [] { xmlInitParser(); });
}

} // namespace

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
    const SharedNs& namespace_of(const xmlChar* uri);
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

bool XmlStream::Impl::feed(std::string_view data) {
    if (failed)
        return false;
    const unsigned failures_before = failures;
    if (!ctxt && !start_parser())
        return finish_feed(false);
    const unsigned gen = generation;
    ++feeding;
    if (max_time.count() > 0) {
        now = Clock::now();
        if (!arriving_since)
            arriving_since = now;
    }
    while (!data.empty()) {
        const std::size_t n = std::min(data.size(), slice);
        const bool go_on = parse_slice(data.substr(0, n));
        data.remove_prefix(n);
        // A callback that called reset() (or destroyed us) discards the rest of the chunk.
        if (!go_on || thrown || gen != generation || !after_chunk())
            break;
    }
    if (!thrown && gen == generation && !failed && max_time.count() > 0)
        check_time();
    --feeding;
    return finish_feed(failures == failures_before);
}

// Hands one slice to libxml2, up to the start tag that holds too many attributes if there is
// one: the stanzas before it are still delivered. False when the stream has failed.
bool XmlStream::Impl::parse_slice(std::string_view bytes) {
    const std::size_t over = scanner.scan(bytes);
    if (over == std::string_view::npos) {
        xmlParseChunk(ctxt, bytes.data(), static_cast<int>(bytes.size()), 0);
        return true;
    }
    const unsigned gen = generation;
    if (over > 0) {
        xmlParseChunk(ctxt, bytes.data(), static_cast<int>(over), 0);
        if (thrown || gen != generation || !after_chunk())
            return false;
    }
    if (scanner.refusal() == TagScanner::Refusal::dtd) {
        fail("restricted-xml", "a DTD is not allowed in XMPP");
    } else {
        fail("policy-violation", "a start tag with more than " +
                                     std::to_string(scanner.max_attributes()) +
                                     " attributes and namespace declarations");
    }
    return false;
}

// Between stanzas with nothing half-received the clock stops; otherwise the stanza arriving
// must be complete within max_time of its first byte.
void XmlStream::Impl::check_time() {
    if (!ctxt || (depth <= 1 && unconsumed() == 0)) {
        arriving_since.reset();
        return;
    }
    if (arriving_since && now - *arriving_since > max_time) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(max_time).count();
        fail("policy-violation", "a stanza still incomplete " + std::to_string(ms) +
                                     " ms after its first byte (max_stanza_time)");
    }
}

// Looks at what libxml2 left behind after one slice; false when the stream has failed.
bool XmlStream::Impl::after_chunk() {
    if (pending) {
        Pending p = std::move(*pending);
        pending.reset();
        fail(p.condition, std::move(p.text));
        return false;
    }
    // The error handler normally reports first; this catches errors that reached a
    // process-wide handler installed by someone else instead.
    if (!ctxt->wellFormed || !ctxt->nsWellFormed) {
        fail("not-well-formed", parser_message());
        return false;
    }
    // libxml2 buffers an unfinished tag, comment or text run until it is complete: bound it.
    if (stanza_bytes + unconsumed() > max_stanza_size) {
        fail("policy-violation", "stanza larger than " + std::to_string(max_stanza_size) +
                                     " bytes (unfinished markup)");
        return false;
    }
    return true;
}

bool XmlStream::Impl::finish_feed(bool ok) {
    std::exception_ptr ex = std::exchange(thrown, nullptr);
    if (ex && !failed) {
        // The stream cannot continue where the exception cut it off.
        failed = true;
        retire_parser();
        clear_stream_state();
    }
    if (feeding == 0) {
        free_parsers();
        // Between stanzas nothing of the tree is needed: an idle stream keeps no storage.
        if (depth <= 1)
            release_storage();
        if (orphaned) {
            delete this;
            if (ex)
                std::rethrow_exception(ex);
            return false;
        }
    }
    if (ex)
        std::rethrow_exception(ex);
    return ok;
}

bool XmlStream::Impl::start_parser() {
    clear_stream_state();
    namespaces.clear(); // keyed by the old parser's dictionary
    stopped = false;
    ctxt = xmlCreatePushParserCtxt(sax_handler(), this, nullptr, 0, nullptr);
    if (!ctxt) {
        fail("internal-server-error", "cannot create the XML parser");
        return false;
    }
    // No network, no DTD loading, no entity substitution and never XML_PARSE_HUGE, so libxml2
    // keeps its own limits on names, text and nesting. XMPP is UTF-8 only, whatever an XML
    // declaration claims.
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_IGNORE_ENC);
    xmlSwitchEncoding(ctxt, XML_CHAR_ENCODING_UTF8);
    if (!parked)
        return true;
    parked = false;
    replaying = true;
    xmlParseChunk(ctxt, resume_tag.data(), static_cast<int>(resume_tag.size()), 0);
    replaying = false;
    if (depth != 1 || pending || !ctxt->wellFormed) {
        pending.reset();
        fail("internal-server-error", "cannot resume the XML stream");
        return false;
    }
    return true;
}

bool XmlStream::Impl::trim() {
    if (feeding > 0 || failed || stopped || !ctxt || depth != 1 || unconsumed() != 0 ||
        resume_tag.empty())
        return false;
    retire_parser();
    release_storage();
    stanza_bytes = 0;
    stopped = false;
    parked = true;
    return true;
}

void XmlStream::Impl::reset() {
    parked = false;
    resume_tag.clear();
    retire_parser();
    clear_stream_state();
    pending.reset();
    failed = false;
}

void XmlStream::Impl::orphan() {
    orphaned = true;
    retire_parser();
    clear_stream_state();
}

// Reports a failure from outside libxml2: the parser is dropped before on_error runs, so that
// on_error may reset() and feed again.
void XmlStream::Impl::fail(const char* condition, std::string text) {
    failed = true;
    ++failures;
    retire_parser();
    clear_stream_state();
    if (!cb.on_error)
        return;
    Reason reason{"xml", 0, condition, std::move(text)};
    try {
        cb.on_error(reason);
    } catch (...) {
        thrown = std::current_exception();
    }
}

// Records a failure found inside a libxml2 callback and stops the parser; fail() reports it
// once libxml2 has returned.
void XmlStream::Impl::refuse(const char* condition, std::string text) {
    if (stopped)
        return;
    stopped = true;
    pending = Pending{condition, std::move(text)};
    xmlStopParser(ctxt);
}

void XmlStream::Impl::retire_parser() {
    ++generation;
    stopped = true;
    if (!ctxt)
        return;
    if (feeding > 0) {
        // libxml2 may still be running this parser further up the stack: stop it now and free
        // it when the outermost feed() returns.
        xmlStopParser(ctxt);
        retired.push_back(ctxt);
    } else {
        xmlFreeParserCtxt(ctxt);
    }
    ctxt = nullptr;
}

void XmlStream::Impl::free_parsers() {
    for (auto* c : retired)
        xmlFreeParserCtxt(c);
    retired.clear();
}

void XmlStream::Impl::clear_stream_state() {
    depth = 0;
    scanner.reset();
    arriving_since.reset();
    stanza_ns_decls = 0;
    open.clear();
    release_storage();
    stanza_bytes = 0;
}

void XmlStream::Impl::release_storage() {
    building.reset();
    std::vector<Node>().swap(spare_nodes);
    std::vector<Node::Attribute>().swap(spare_attrs);
}

std::size_t XmlStream::Impl::unconsumed() const {
    const xmlParserInputPtr in = ctxt ? ctxt->input : nullptr;
    if (!in || !in->cur || !in->end || in->end < in->cur)
        return 0;
    return static_cast<std::size_t>(in->end - in->cur);
}

std::string XmlStream::Impl::parser_message() const {
    const xmlError* e = ctxt ? xmlCtxtGetLastError(ctxt) : nullptr;
    return trimmed(e ? e->message : nullptr);
}

// -- building nodes --------------------------------------------------------------------------

void XmlStream::Impl::start_element(const xmlChar* local, const xmlChar* prefix, const xmlChar* uri,
                                    int nb_ns, const xmlChar** ns, int nb_attrs,
                                    const xmlChar** attrs) {
    if (!ctxt->wellFormed || !ctxt->nsWellFormed) {
        refuse("not-well-formed", parser_message()); // e.g. an unbound prefix
        return;
    }
    std::string_view name = qualified(scratch, prefix, local);
    if (depth == 0) {
        start_stream(name, uri, nb_ns, ns, nb_attrs, attrs);
        return;
    }
    if (depth > max_depth) {
        refuse("policy-violation",
               "elements nested deeper than " + std::to_string(max_depth) + " levels");
        return;
    }
    if (depth == 1) {
        stanza_ns_decls = 0;
        if (local && view(local) == root_local && view(uri) == root_uri) {
            refuse("invalid-xml", "a second stream header inside the stream (<" +
                                      std::string(name) + ">): the stream was not restarted");
            return;
        }
    }
    stanza_ns_decls += static_cast<std::size_t>(nb_ns);
    if (stanza_ns_decls > max_ns_decls) {
        refuse("policy-violation", "a stanza with more than " + std::to_string(max_ns_decls) +
                                       " namespace declarations");
        return;
    }
    Node* el;
    if (depth == 1) {
        if (!building)
            building = std::make_unique<Node>();
        el = building.get();
        stanza_bytes = 0;
    } else {
        el = &next_child(open.back());
    }
    NodeAccess::set_text(*el, false);
    NodeAccess::text(*el).clear();
    NodeAccess::name(*el).assign(name);
    NodeAccess::set_ns(*el, namespace_of(uri));
    open.push_back(Open{el, 0});
    ++depth;
    stanza_bytes += 2 * name.size() + element_weight; // "<name></name>" and its Node
    add_attributes(*el, nb_ns, ns, nb_attrs, attrs, false);
    over_limit();
}

// A child slot beyond those an earlier stanza left: a spare node, or a new one.
Node& XmlStream::Impl::new_child(Open& parent) {
    auto& children = parent.node->children();
    if (spare_nodes.empty()) {
        // A stanza usually has a few children: one allocation instead of growing 1, 2, 4.
        if (children.capacity() == 0)
            children.reserve(4);
        children.emplace_back();
    } else {
        children.push_back(std::move(spare_nodes.back()));
        spare_nodes.pop_back();
    }
    ++parent.used;
    return children.back();
}

void XmlStream::Impl::spare_children(std::vector<Node>& children, std::size_t keep) {
    while (children.size() > keep) {
        spare_nodes.push_back(std::move(children.back()));
        children.pop_back();
    }
}

const SharedNs& XmlStream::Impl::namespace_of(const xmlChar* uri) {
    static const SharedNs none;
    if (uri == nullptr || *uri == 0)
        return none;
    for (const CachedNs& c : namespaces) {
        if (c.key == uri && (c.interned || *c.ns == view(uri)))
            return c.ns;
    }
    std::string text = unescape_amp(view(uri));
    SharedNs shared;
    for (const CachedNs& c : namespaces) {
        if (*c.ns == text) {
            shared = c.ns;
            break;
        }
    }
    if (!shared)
        shared = shared_ns(std::move(text));
    if (namespaces.size() >= max_cached_namespaces) {
        uncached_ns = std::move(shared);
        return uncached_ns;
    }
    const bool interned = ctxt != nullptr && xmlDictOwns(ctxt->dict, uri) == 1;
    namespaces.push_back(CachedNs{uri, interned, std::move(shared)});
    return namespaces.back().ns;
}

void XmlStream::Impl::start_stream(std::string_view name, const xmlChar* uri, int nb_ns,
                                   const xmlChar** ns, int nb_attrs, const xmlChar** attrs) {
    stanza_bytes = 0; // the header is no stanza
    depth = 1;
    if (replaying)
        return;
    root_local.assign(
        name.substr(name.find(':') == std::string_view::npos ? 0 : name.find(':') + 1));
    root_uri.assign(view(uri));
    resume_tag.assign("<");
    resume_tag.append(name);
    for (int i = 0; i < nb_ns; ++i) {
        resume_tag.append(ns[2 * i] ? " xmlns:" : " xmlns");
        resume_tag.append(view(ns[2 * i]));
        resume_tag.append("=\"");
        append_attribute_escaped(resume_tag, unescape_amp(view(ns[2 * i + 1])));
        resume_tag.push_back('"');
    }
    resume_tag.push_back('>');
    Node header{std::string(name)};
    NodeAccess::set_ns(header, namespace_of(uri));
    add_attributes(header, nb_ns, ns, nb_attrs, attrs, true);
    if (cb.on_stream_start)
        cb.on_stream_start(std::move(header));
}

// Attributes keep their qualified names (xml:lang); prefix declarations are kept as xmlns:p
// attributes so they round-trip. The default declaration is the element's ns(); only the stream
// header keeps it as an "xmlns" attribute, because it names the stream's content namespace.
void XmlStream::Impl::add_attributes(Node& el, int nb_ns, const xmlChar** ns, int nb_attrs,
                                     const xmlChar** attrs, bool keep_default_ns) {
    // libxml2 has already refused duplicate attributes, so they are filled in without
    // set_attr's search, into the slots an earlier stanza left.
    auto& list = NodeAccess::attributes(el);
    std::size_t used = 0;
    for (int i = 0; i < nb_attrs; ++i) {
        const xmlChar** a = attrs + 5 * i; // localname, prefix, URI, value, end
        Node::Attribute& slot = next_attribute(list, used);
        slot.first.assign(qualified(scratch, a[1], a[0]));
        attribute_value(slot.second, a[3], a[4]);
        stanza_bytes += slot.first.size() + slot.second.size() + attribute_weight;
    }
    for (int i = 0; i < nb_ns; ++i) {
        const xmlChar* prefix = ns[2 * i];
        // A stanza's default declaration is its ns(); only xmlns='' (no namespace, not the
        // parent's) is kept as an attribute, so that it is written back out.
        if (!prefix && !keep_default_ns && ns[2 * i + 1] != nullptr && ns[2 * i + 1][0] != 0)
            continue;
        Node::Attribute& slot = next_attribute(list, used);
        slot.first.assign("xmlns");
        if (prefix) {
            slot.first.push_back(':');
            slot.first.append(view(prefix));
        }
        unescape_amp(slot.second, view(ns[2 * i + 1]));
        stanza_bytes += slot.first.size() + slot.second.size() + attribute_weight;
    }
    while (list.size() > used) {
        spare_attrs.push_back(std::move(list.back()));
        list.pop_back();
    }
}

Node::Attribute& XmlStream::Impl::new_attribute(std::vector<Node::Attribute>& list,
                                                std::size_t& used) {
    ++used;
    if (spare_attrs.empty())
        return list.emplace_back();
    list.push_back(std::move(spare_attrs.back()));
    spare_attrs.pop_back();
    return list.back();
}

void XmlStream::Impl::end_element() {
    if (depth == 0)
        return;
    --depth;
    if (depth == 0) {
        // The root's end tag: the stream is over. Never a new stream start (PCJ bugs 13, 14).
        clear_stream_state();
        if (cb.on_stream_end)
            cb.on_stream_end();
        return;
    }
    const Open closed = open.back();
    open.pop_back();
    drop_rest(closed.node->children(), closed.used);
    if (depth > 1)
        return;
    if (xmlDictSize(ctxt->dict) > max_distinct_names) {
        refuse("policy-violation", "too many distinct element and attribute names");
        return;
    }
    stanza_bytes = 0;
    if (max_time.count() > 0)
        arriving_since = now; // whatever follows in this read began arriving now, at the latest
    deliver();
}

// The tree is taken out of `building` for the call, so that a callback which feeds again
// (a nested stanza) builds into other storage, and the lent stanza stays as it is.
void XmlStream::Impl::deliver() {
    std::unique_ptr<Node> tree = std::move(building);
    if (cb.on_stanza) {
        const unsigned gen = generation;
        cb.on_stanza(*tree);
        if (!building && gen == generation)
            building = std::move(tree);
        return;
    }
    if (cb.on_element)
        cb.on_element(std::move(*tree));
    if (!building)
        building = std::move(tree); // an empty shell now; keeps the allocation of the Node
}

void XmlStream::Impl::characters(const xmlChar* ch, int len) {
    // Whitespace (a keepalive) or stray text between stanzas belongs to no stanza.
    if (depth < 2 || len <= 0)
        return;
    stanza_bytes += static_cast<std::size_t>(len);
    if (over_limit())
        return;
    // Adjacent runs (libxml2 splits text at references and buffer ends) make one text node.
    Open& parent = open.back();
    auto& children = parent.node->children();
    if (parent.used > 0 && children[parent.used - 1].is_text()) {
        NodeAccess::text(children[parent.used - 1]).append(view(ch, ch + len));
        return;
    }
    Node& t = next_child(parent);
    NodeAccess::set_text(t, true);
    NodeAccess::name(t).clear();
    NodeAccess::set_ns(t, nullptr);
    auto& attrs = NodeAccess::attributes(t);
    while (!attrs.empty()) {
        spare_attrs.push_back(std::move(attrs.back()));
        attrs.pop_back();
    }
    drop_rest(t.children(), 0);
    NodeAccess::text(t).assign(view(ch, ch + len));
}

bool XmlStream::Impl::refuse_oversized() {
    refuse("policy-violation", "stanza larger than " + std::to_string(max_stanza_size) + " bytes");
    return true;
}

// -- libxml2 callbacks -----------------------------------------------------------------------

// Every callback runs its body through here: nothing may unwind through libxml2's C frames.
template <class F> void XmlStream::Impl::guarded(void* ctx, F&& f) noexcept {
    auto& self = *static_cast<Impl*>(ctx);
    if (self.stopped)
        return;
    try {
        f(self);
    } catch (...) {
        if (!self.thrown)
            self.thrown = std::current_exception();
        if (!self.stopped && self.ctxt) {
            self.stopped = true;
            xmlStopParser(self.ctxt);
        }
    }
}

void XmlStream::Impl::on_start(void* ctx, const xmlChar* local, const xmlChar* prefix,
                               const xmlChar* uri, int nb_ns, const xmlChar** ns, int nb_attrs,
                               int /*nb_defaulted*/, const xmlChar** attrs) {
    guarded(ctx, [&](Impl& s) { s.start_element(local, prefix, uri, nb_ns, ns, nb_attrs, attrs); });
}

void XmlStream::Impl::on_end(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
    guarded(ctx, [](Impl& s) { s.end_element(); });
}

void XmlStream::Impl::on_characters(void* ctx, const xmlChar* ch, int len) {
    guarded(ctx, [&](Impl& s) { s.characters(ch, len); });
}

void XmlStream::Impl::on_subset(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
    guarded(ctx, [](Impl& s) { s.refuse("restricted-xml", "a DTD is not allowed in XMPP"); });
}

void XmlStream::Impl::on_entity_decl(void* ctx, const xmlChar*, int, const xmlChar*, const xmlChar*,
                                     xmlChar*) {
    guarded(ctx, [](Impl& s) {
        s.refuse("restricted-xml", "an entity declaration is not allowed in XMPP");
    });
}

void XmlStream::Impl::on_unparsed_entity_decl(void* ctx, const xmlChar*, const xmlChar*,
                                              const xmlChar*, const xmlChar*) {
    guarded(ctx, [](Impl& s) {
        s.refuse("restricted-xml", "an entity declaration is not allowed in XMPP");
    });
}

void XmlStream::Impl::on_pi(void* ctx, const xmlChar*, const xmlChar*) {
    guarded(ctx, [](Impl& s) {
        s.refuse("restricted-xml", "a processing instruction is not allowed in XMPP");
    });
}

// RFC 6120 §11.1 lists comments among the restricted XML features.
void XmlStream::Impl::on_comment(void* ctx, const xmlChar*) {
    guarded(ctx, [](Impl& s) { s.refuse("restricted-xml", "a comment is not allowed in XMPP"); });
}

// Not stopping the parser here: libxml2 keeps working on its input after raising an error, and
// a fatal error already disables further SAX callbacks. Warnings are not failures.
void XmlStream::Impl::on_error(void* ctx, xmlErrorPtr error) {
    if (!error || error->level == XML_ERR_WARNING)
        return;
    guarded(ctx, [error](Impl& s) {
        s.stopped = true;
        // "<?xml …?>" inside the root is how a second stream header usually begins.
        if (error->code == XML_ERR_RESERVED_XML_NAME && s.depth >= 1) {
            s.pending = Pending{"invalid-xml", "a second stream header inside the stream (an XML "
                                               "declaration): the stream was not restarted"};
            return;
        }
        s.pending = Pending{"not-well-formed", trimmed(error->message)};
    });
}

xmlSAXHandler* XmlStream::Impl::sax_handler() {
    static xmlSAXHandler handler = [] {
        xmlSAXHandler h{};
        h.initialized = XML_SAX2_MAGIC;
        h.startElementNs = on_start;
        h.endElementNs = on_end;
        h.characters = on_characters;
        h.ignorableWhitespace = on_characters;
        h.cdataBlock = on_characters;
        h.internalSubset = on_subset;
        h.externalSubset = on_subset;
        h.entityDecl = on_entity_decl;
        h.unparsedEntityDecl = on_unparsed_entity_decl;
        h.processingInstruction = on_pi;
        h.comment = on_comment;
        h.serror = on_error;
        return h;
    }();
    return &handler;
}

// -- public face -----------------------------------------------------------------------------

XmlStream::XmlStream(Callbacks callbacks, Limits limits)
    : impl_(std::make_unique<Impl>(std::move(callbacks), limits)) {}

XmlStream::XmlStream(Callbacks callbacks, std::size_t max_stanza_size, std::size_t max_depth)
    : XmlStream(std::move(callbacks), Limits{max_stanza_size, max_depth, 64, 64, {}}) {}

// Destroyed from inside one of its own callbacks, the parser state must outlive this object
// until libxml2 has unwound: the Impl then deletes itself when the outermost feed() returns.
XmlStream::~XmlStream() {
    if (impl_ && impl_->feeding > 0) {
        impl_->orphan();
        static_cast<void>(impl_.release());
    }
}

bool XmlStream::feed(std::string_view data) {
    // Only the Impl is touched once parsing starts: a callback may destroy this object.
    return impl_->feed(data);
}

void XmlStream::reset() {
    impl_->reset();
}

bool XmlStream::failed() const {
    return impl_->failed;
}

bool XmlStream::trim() {
    return impl_->trim();
}

} // namespace pcj::detail
