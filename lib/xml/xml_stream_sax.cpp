// XmlStream: the SAX2 callbacks — elements, attributes and text turned into the stream header
// and its stanzas, and the input XMPP does not allow (DTDs, entities, PIs, comments) refused.
#include "xml_stream_impl.hpp"

namespace pcj::detail {

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

const SharedNs& XmlStream::Impl::new_namespace(const xmlChar* uri) {
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
    resume_tag.clear(); // not assign("<"): GCC 12 at -O3 sees a false -Wrestrict overlap there
    resume_tag.push_back('<');
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
        // The root's end tag: the stream is over. Never a new stream start (PCJ took it for one:
        // doc/origins.md, bugs 13 and 14).
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

} // namespace pcj::detail
