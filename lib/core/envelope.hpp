// Envelope: the stanza a connection type's envelope carries (a jabberd2 <route/>), found by the
// unwrap function its protocol registered (protocols/negotiation/protocol.hpp).
#pragma once

#include "pcj/node.hpp"

namespace pcj::detail {

class Envelope {
public:
    using Unwrap = const Node* (*)(const Node&);
    explicit Envelope(Unwrap unwrap) : unwrap_(unwrap) {}

    // The stanza itself, or the one its envelope carries: ids, types and senders are its.
    const Node& stanza_of(const Node& node) const {
        const Node* inner = unwrap_ != nullptr ? unwrap_(node) : nullptr;
        return inner != nullptr ? *inner : node;
    }
    Node& stanza_of(Node& node) const {
        return const_cast<Node&>(stanza_of(static_cast<const Node&>(node)));
    }

private:
    Unwrap unwrap_;
};

} // namespace pcj::detail
