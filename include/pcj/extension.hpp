// Extension: a plug-in that handles its own stanzas on a component (seeds/000: "every extension
// exposes its own node handling").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pcj {

class Component;
class Node;

// Which inbound stanzas an extension wants. Empty fields match anything:
// {"iq", "get", "urn:xmpp:ping"} is every <iq type='get'> with a child in urn:xmpp:ping.
struct StanzaMatch {
    std::string element;  // "iq", "message", "presence" (local name)
    std::string type;     // the type attribute ("get", "set", "result", "error", "chat", …)
    std::string child_ns; // the namespace of one of the stanza's element children
};

// Attached to a component with Component::attach(); detached with detach() or when the
// component is destroyed. Every call is made on the loop's thread.
class Extension {
public:
    virtual ~Extension() = default;

    // Unique per component; attach() refuses a second extension with the same name.
    virtual std::string_view name() const = 0;
    // The stanzas on_stanza() is given (after READY, after return_to_sender replies, before
    // XPath filters and PCJ_NODERECEIVED).
    virtual std::vector<StanzaMatch> handles() const = 0;
    // The events it publishes on the component's PubSub (for documentation and discovery).
    virtual std::vector<std::string> emits() const { return {}; }

    virtual void attached(Component& component) { (void)component; }
    virtual void detached(Component& component) { (void)component; }
    // True when the extension consumed the stanza: neither later extensions, nor filters, nor
    // PCJ_NODERECEIVED see it. False lets it go on.
    virtual bool on_stanza(Component& component, const Node& stanza) = 0;
};

} // namespace pcj
