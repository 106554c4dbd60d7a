// Recorder: subscribes to every event of a component and keeps what it saw, for assertions.
#pragma once

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pcj/pcj.hpp"

namespace pcj::test {

struct Seen {
    std::string name;
    std::optional<Node> node;
    std::optional<Reason> reason;
    std::string xpath;
    std::vector<Node> matches;
    Payload payload;
};

class Recorder {
public:
    explicit Recorder(Component& c)
        : sub_(c.subscribe_all([this](const Event& e) {
              Seen s;
              s.name = std::string(e.name);
              if (e.node != nullptr) {
                  s.node = *e.node;
              }
              if (e.reason != nullptr) {
                  s.reason = *e.reason;
              }
              s.xpath = std::string(e.xpath);
              s.matches.assign(e.matches.begin(), e.matches.end());
              if (e.payload != nullptr) {
                  s.payload = *e.payload;
              }
              seen.push_back(std::move(s));
          })) {}

    std::vector<Seen> seen;

    // PCJ's status events in order, leaving out the chatty per-node ones unless asked for.
    std::vector<std::string> names(bool with_nodes = false) const {
        std::vector<std::string> out;
        for (const auto& s : seen) {
            if (!s.name.starts_with("PCJ_")) {
                continue; // the other event families (doc/origins.md): see names_in()
            }
            if (!with_nodes &&
                (s.name == ev::NODESENT || s.name == ev::NODERECEIVED || s.name == ev::NODEQUEUED ||
                 s.name == ev::RTS_START || s.name == ev::RTS_FINISH)) {
                continue;
            }
            out.push_back(s.name);
        }
        return out;
    }
    // The names of the events that are in `family` (e.g. net::all, xs::all, sock::all), in order.
    template <typename Family> std::vector<std::string> names_in(const Family& family) const {
        std::vector<std::string> out;
        for (const auto& s : seen) {
            if (std::find(family.begin(), family.end(), s.name) != family.end()) {
                out.push_back(s.name);
            }
        }
        return out;
    }
    std::size_t count(std::string_view name) const {
        return static_cast<std::size_t>(
            std::count_if(seen.begin(), seen.end(), [&](const Seen& s) { return s.name == name; }));
    }
    bool has(std::string_view name) const { return count(name) > 0; }
    const Seen* first(std::string_view name) const {
        const auto it =
            std::find_if(seen.begin(), seen.end(), [&](const Seen& s) { return s.name == name; });
        return it == seen.end() ? nullptr : &*it;
    }
    const Seen* last(std::string_view name) const {
        for (auto it = seen.rbegin(); it != seen.rend(); ++it) {
            if (it->name == name) {
                return &*it;
            }
        }
        return nullptr;
    }
    void clear() { seen.clear(); }

private:
    Subscription sub_;
};

inline std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) {
        out += (out.empty() ? "" : " ") + s;
    }
    return out;
}

// The names of `family` that `rec` saw, in order, without the chatty ones in `skip`.
template <typename Family>
std::string sequence(const Recorder& rec, const Family& family,
                     const std::set<std::string_view>& skip = {}) {
    std::vector<std::string> out;
    for (const auto& name : rec.names_in(family)) {
        if (!skip.contains(name)) {
            out.push_back(name);
        }
    }
    return join(out);
}

} // namespace pcj::test
