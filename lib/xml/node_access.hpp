// NodeAccess: lets the stream parser refill a pcj::Node in place, keeping its strings' storage.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pcj/node.hpp"

namespace pcj::detail {

// A namespace URI as Node keeps it (shared; null for none). The stream content and stream
// namespaces come from static strings without an allocation.
std::shared_ptr<const std::string> shared_ns(std::string ns);

struct NodeAccess {
    static std::string& name(Node& n) { return n.name_; }
    static std::string& text(Node& n) { return n.text_; }
    static std::vector<Node::Attribute>& attributes(Node& n) { return n.attrs_; }
    static void set_ns(Node& n, const std::shared_ptr<const std::string>& ns) {
        if (n.ns_ != ns) // the usual case, the same URI again, costs no reference counting
            n.ns_ = ns;
    }
    static void set_text(Node& n, bool is_text) { n.is_text_ = is_text; }
};

} // namespace pcj::detail
