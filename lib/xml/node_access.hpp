// NodeAccess: lets the stream parser refill a pcj::Node in place, keeping its strings' storage.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pcj/node.hpp"

namespace pcj::detail {

// A namespace URI as Node keeps it (shared; null for none). The stream content and stream
// namespaces come from static strings without an allocation.
std::shared_ptr<const std::string> shared_ns(std::string ns);

// Without entity substitution libxml2 hands a '&' of an attribute value — namespace URIs
// included — over as "&#38;" (meant for xmlStringGetNodeList to reparse). Every '&' in such a
// value starts that sequence, because every other reference has been replaced or refused.
// Writes the value as the document meant it into out, reusing its capacity.
inline void unescape_amp(std::string& out, std::string_view raw) {
    if (raw.find('&') == std::string_view::npos) {
        out.assign(raw);
        return;
    }
    out.clear();
    for (std::size_t i = 0; i < raw.size(); ++i) {
        out.push_back(raw[i]);
        if (raw[i] == '&' && raw.substr(i, 5) == "&#38;")
            i += 4;
    }
}

inline std::string unescape_amp(std::string_view raw) {
    std::string out;
    unescape_amp(out, raw);
    return out;
}

struct NodeAccess {
    static std::string& name(Node& n) { return n.name_; }
    static std::string& text(Node& n) { return n.text_; }
    // A text node's characters without a copy (the XPath fast path reads string values).
    static const std::string& text(const Node& n) { return n.text_; }
    static std::vector<Node::Attribute>& attributes(Node& n) { return n.attrs_; }
    static void set_ns(Node& n, const std::shared_ptr<const std::string>& ns) {
        if (n.ns_ != ns) // the usual case, the same URI again, costs no reference counting
            n.ns_ = ns;
    }
    static void set_text(Node& n, bool is_text) { n.is_text_ = is_text; }
};

} // namespace pcj::detail
