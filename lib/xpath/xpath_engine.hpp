// The libxml2 side of FilterSet: the XPath context, a stanza as a libxml2 document, and what
// libxml2 selects handed back as pcj::Node.
#pragma once

#include <libxml/tree.h>
#include <libxml/xpath.h>

#include <memory>
#include <string>

#include "pcj/node.hpp"

namespace pcj::detail::xp {

struct DocFree {
    void operator()(xmlDoc* doc) const noexcept { xmlFreeDoc(doc); }
};
struct ObjectFree {
    void operator()(xmlXPathObject* obj) const noexcept { xmlXPathFreeObject(obj); }
};
struct CompFree {
    void operator()(xmlXPathCompExpr* comp) const noexcept { xmlXPathFreeCompExpr(comp); }
};
struct ContextFree {
    void operator()(xmlXPathContext* ctx) const noexcept { xmlXPathFreeContext(ctx); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;
using ObjectPtr = std::unique_ptr<xmlXPathObject, ObjectFree>;
using CompPtr = std::unique_ptr<xmlXPathCompExpr, CompFree>;
using ContextPtr = std::unique_ptr<xmlXPathContext, ContextFree>;

const xmlChar* xml_str(const char* s);
const xmlChar* xml_str(const std::string& s);

// The stanza as a document whose root element is the stanza. Every element remembers (in
// _private) the pcj::Node it was built from. Null when libxml2 runs out of memory.
DocPtr stanza_document(const Node& stanza);
// A selected libxml2 node as a pcj::Node: an element as a copy of the stanza's own subtree.
Node to_node(const xmlNode* n, const Node& stanza);

// The XPath context, shared with evaluations in progress so that they survive a fire() that
// destroys the FilterSet. Every call into libxml2 collects its complaints in `errors` instead
// of letting them reach stderr.
struct Engine {
    ContextPtr ctx;
    std::string errors;

    Engine();
    CompPtr compile(const std::string& xpath);
    // Null on an evaluation error (the reason is in errors).
    ObjectPtr run(xmlXPathCompExpr* comp, xmlDoc* doc);
};

} // namespace pcj::detail::xp
