/// @file
/// Extension: a plug-in that handles its own stanzas on a component (doc/extensions.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pcj/export.hpp"

namespace pcj {

class Component;
class Node;

namespace detail {
class ExtensionSet;
}

/// Which inbound stanzas an extension wants. Empty fields match anything:
/// {"iq", "get", "urn:xmpp:ping"} is every `<iq type="get">` with a child in urn:xmpp:ping.
struct PCJ_EXPORT StanzaMatch {
    std::string element;  ///< "iq", "message", "presence" (local name)
    std::string type;     ///< the type attribute ("get", "set", "result", "error", "chat", …)
    std::string child_ns; ///< the namespace of one of the stanza's element children
};

/// Attached to a component with Component::attach() (shared ownership: the component keeps it
/// alive while attached); detached with Component::detach() or when the component is destroyed.
/// An extension is attached to one component at a time. Every call is made on the loop's thread.
///
/// A stanza reaches on_stanza() once the component is READY, after return_to_sender replies
/// were taken out and before XPath filters and PCJ_NODERECEIVED. Extensions whose handles()
/// select it are offered it in attach order until one consumes it. For a jabberd2 `<route/>` the
/// match is made on the stanza inside, but on_stanza() is given the whole route (so that a reply
/// can be routed back). An exception thrown by on_stanza() propagates as a handler's does: the
/// stanza goes no further.
class PCJ_EXPORT Extension {
public:
    /// A detached extension.
    Extension() = default;
    /// A copy is a new extension: it is not attached anywhere (and assigning does not change
    /// where the target is attached).
    ///@{
    Extension(const Extension&) noexcept {}
    Extension& operator=(const Extension&) noexcept { return *this; }
    ///@}
    /// Destroyed detached: the component holds a shared_ptr while it is attached.
    virtual ~Extension();

    /// Unique per component; attach() refuses a second extension with the same name.
    virtual std::string_view name() const = 0;
    /// The stanzas on_stanza() is given. Read once, when the extension is attached.
    virtual std::vector<StanzaMatch> handles() const = 0;
    /// The events it publishes on the component's PubSub (for documentation and discovery).
    virtual std::vector<std::string> emits() const { return {}; }
    /// The XEP-0030 features it implements ("urn:xmpp:ping"): a disco responder announces them.
    virtual std::vector<std::string> features() const { return {}; }

    /// Called by attach() once the extension is in the component's list (an exception thrown
    /// here undoes the attach), and by detach() once it is out of it. The component's destructor
    /// detaches every extension first, while its loop is still usable: release libuv handles
    /// here, not in the destructor, which may run after the component and its loop are gone.
    ///@{
    virtual void attached(Component& component) { (void)component; }
    virtual void detached(Component& component) { (void)component; }
    ///@}
    /// True when the extension consumed the stanza: neither later extensions, nor filters, nor
    /// PCJ_NODERECEIVED see it. False lets it go on.
    virtual bool on_stanza(Component& component, const Node& stanza) = 0;

    /// True while the extension is attached to a component.
    bool is_attached() const { return set_ != nullptr; }

protected:
    /// The features() of every extension attached to the same component, this one included, in
    /// attach order and without repeats; empty when not attached.
    std::vector<std::string> attached_features() const;

private:
    friend class detail::ExtensionSet;
    const detail::ExtensionSet* set_ = nullptr; ///< the component's list it is in
};

} // namespace pcj
