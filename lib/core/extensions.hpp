// ExtensionSet: the extensions attached to one component, and the stanzas offered to them.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pcj/extension.hpp"
#include "pcj/node.hpp"

namespace pcj::detail {

class ExtensionSet {
public:
    ExtensionSet() = default;
    ExtensionSet(const ExtensionSet&) = delete;
    ExtensionSet& operator=(const ExtensionSet&) = delete;
    ~ExtensionSet();

    // Throws pcj::Error when the extension is null, when one with the same name is attached
    // already, or when it is attached to a component already (this one or another).
    void attach(Component& component, std::shared_ptr<Extension> extension);
    bool detach(Component& component, std::string_view name);
    void detach_all(Component& component);
    Extension* find(std::string_view name) const;
    bool empty() const { return entries_.empty(); }
    // Every attached extension's features(), in attach order, without repeats.
    std::vector<std::string> features() const;

    // Offers the stanza (for a jabberd2 <route/>: matched on the stanza inside) to every
    // extension whose StanzaMatch list selects it, in attach order, until one consumes it.
    // `inner` is the stanza itself, or the one its envelope carries (a jabberd2 <route/>):
    // extensions are chosen by it, and handed `stanza` as received.
    bool dispatch(Component& component, const Node& stanza, const Node& inner);

private:
    struct Entry {
        std::shared_ptr<Extension> extension;
        std::vector<StanzaMatch> matches;
    };
    static bool selects(const Entry& entry, const Node& stanza);
    std::vector<Entry> entries_;
};

} // namespace pcj::detail
