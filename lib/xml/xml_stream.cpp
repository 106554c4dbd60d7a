// XmlStream: libxml2's SAX2 push parser turned into stream header, stanza and stream end events.
// This file: feeding the parser, its limits and its life; xml_stream_sax.cpp: what its callbacks
// build.
#include "xml_stream_impl.hpp"

namespace pcj::detail {

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
    // Keyed by the retired parser's dictionary, so never looked up again (start_parser() clears
    // it): an idle stream keeps neither the cache nor the namespace strings only it holds.
    std::vector<CachedNs>().swap(namespaces);
    uncached_ns.reset();
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
