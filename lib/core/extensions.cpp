// ExtensionSet: attach, detach, and the matching that decides which extension sees a stanza.
#include "extensions.hpp"

#include <algorithm>

#include "pcj/error.hpp"

namespace pcj::detail {

ExtensionSet::~ExtensionSet() {
    // The component detaches everything first; this only keeps a surviving extension from
    // pointing at a list that is gone.
    for (auto& e : entries_) {
        e.extension->set_ = nullptr;
    }
}

void ExtensionSet::attach(Component& component, std::shared_ptr<Extension> extension) {
    if (!extension) {
        throw Error("attach: the extension must not be null");
    }
    if (find(extension->name()) != nullptr) {
        throw Error("attach: an extension named '" + std::string(extension->name()) +
                    "' is attached already");
    }
    if (extension->set_ != nullptr) {
        throw Error("attach: the extension '" + std::string(extension->name()) +
                    "' is attached to a component already");
    }
    Extension* raw = extension.get();
    entries_.push_back(Entry{extension, extension->handles()});
    raw->set_ = this;
    try {
        raw->attached(component);
    } catch (...) {
        // Undo, unless attached() itself detached it already.
        auto it = std::find_if(entries_.begin(), entries_.end(),
                               [raw](const Entry& e) { return e.extension.get() == raw; });
        if (it != entries_.end()) {
            entries_.erase(it);
        }
        raw->set_ = nullptr;
        throw;
    }
}

bool ExtensionSet::detach(Component& component, std::string_view name) {
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [name](const Entry& e) { return e.extension->name() == name; });
    if (it == entries_.end()) {
        return false;
    }
    std::shared_ptr<Extension> gone = std::move(it->extension);
    entries_.erase(it);
    gone->set_ = nullptr;
    gone->detached(component);
    return true;
}

void ExtensionSet::detach_all(Component& component) {
    while (!entries_.empty()) {
        std::shared_ptr<Extension> gone = std::move(entries_.back().extension);
        entries_.pop_back();
        gone->set_ = nullptr;
        gone->detached(component);
    }
}

Extension* ExtensionSet::find(std::string_view name) const {
    for (const auto& e : entries_) {
        if (e.extension->name() == name) {
            return e.extension.get();
        }
    }
    return nullptr;
}

std::vector<std::string> ExtensionSet::features() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) {
        for (auto& f : e.extension->features()) {
            if (std::find(out.begin(), out.end(), f) == out.end()) {
                out.push_back(std::move(f));
            }
        }
    }
    return out;
}

bool ExtensionSet::selects(const Entry& entry, const Node& stanza) {
    for (const auto& m : entry.matches) {
        if (!m.element.empty() && stanza.local_name() != m.element) {
            continue;
        }
        if (!m.type.empty()) {
            const std::string* type = stanza.find_attr("type");
            if (type == nullptr || *type != m.type) {
                continue;
            }
        }
        if (!m.child_ns.empty()) {
            const auto& kids = stanza.children();
            const bool found = std::any_of(kids.begin(), kids.end(), [&](const Node& c) {
                return !c.is_text() && c.ns() == m.child_ns;
            });
            if (!found) {
                continue;
            }
        }
        return true;
    }
    return false;
}

bool ExtensionSet::dispatch(Component& component, const Node& stanza, const Node& inner) {
    if (entries_.empty()) {
        return false;
    }
    // A handler may attach or detach extensions: walk a snapshot of those that match.
    std::vector<std::shared_ptr<Extension>> chosen;
    for (const auto& e : entries_) {
        if (selects(e, inner)) {
            chosen.push_back(e.extension);
        }
    }
    for (const auto& extension : chosen) {
        if (find(extension->name()) != extension.get()) {
            continue; // detached by an earlier handler
        }
        if (extension->on_stanza(component, stanza)) {
            return true;
        }
    }
    return false;
}

} // namespace pcj::detail

namespace pcj {

Extension::~Extension() = default;

std::vector<std::string> Extension::attached_features() const {
    return set_ != nullptr ? set_->features() : std::vector<std::string>{};
}

} // namespace pcj
