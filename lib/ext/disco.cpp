// XEP-0030 Service Discovery: disco#info and disco#items queries (§3, §4) and the responder
// that answers them for the component itself.
//
//   query_info(jid) ── <iq type='get'><query xmlns='…#info'/></iq> ──▶ return_to_sender
//        result ──▶ QUERY_INFO {DiscoInfo}     error / timeout / lost ──▶ QUERY_INFO {Reason}
//
//   <iq type='get' to=SELF><query xmlns='…#info|#items' [node=N]/></iq>
//        no node / known node ──▶ result          unknown node ──▶ item-not-found
#include "pcj/disco.hpp"

#include <algorithm>

#include "pcj/component.hpp"
#include "pcj/error.hpp"
#include "stanza_util.hpp"

namespace pcj {

using detail::find_child;
using detail::inner_stanza;

struct Disco::State {
    Options options;
    Component* component = nullptr;
};

namespace {

void add_unique(std::vector<std::string>& list, const std::string& value) {
    if (std::find(list.begin(), list.end(), value) == list.end()) {
        list.push_back(value);
    }
}

std::vector<DiscoIdentity> default_identities(const Component& component) {
    if (detail::is_component(component)) {
        return {DiscoIdentity{"component", "generic", "", ""}};
    }
    return {DiscoIdentity{"client", "bot", "", ""}};
}

void put_identities(Node& query, const std::vector<DiscoIdentity>& identities) {
    for (const auto& id : identities) {
        Node& el = query.add_child("identity");
        el.set_attr("category", id.category);
        el.set_attr("type", id.type);
        if (!id.name.empty()) {
            el.set_attr("name", id.name);
        }
        if (!id.lang.empty()) {
            el.set_attr("xml:lang", id.lang);
        }
    }
}

void put_features(Node& query, const std::vector<std::string>& features) {
    for (const auto& f : features) {
        query.add_child("feature").set_attr("var", f);
    }
}

void put_items(Node& query, const std::vector<DiscoItem>& items) {
    for (const auto& item : items) {
        Node& el = query.add_child("item");
        el.set_attr("jid", item.jid);
        if (!item.node.empty()) {
            el.set_attr("node", item.node);
        }
        if (!item.name.empty()) {
            el.set_attr("name", item.name);
        }
    }
}

// The result stanza of a reply, when it is a result carrying <query xmlns=ns/>.
const Node* result_query(const Node& reply, std::string_view ns) {
    const Node& iq = inner_stanza(reply);
    if (iq.local_name() != "iq" || iq.attr("type") != "result") {
        return nullptr;
    }
    return find_child(iq, "query", ns);
}

} // namespace

Disco::Disco() : Disco(Options{}) {}

Disco::Disco(Options options) : state_(std::make_shared<State>()) {
    state_->options = std::move(options);
}

Disco::~Disco() = default;

std::vector<StanzaMatch> Disco::handles() const {
    return {StanzaMatch{"iq", "get", std::string(disco_info_ns)},
            StanzaMatch{"iq", "get", std::string(disco_items_ns)}};
}

std::vector<std::string> Disco::emits() const {
    return {std::string(ext::QUERY_INFO), std::string(ext::QUERY_ITEMS)};
}

std::vector<std::string> Disco::features() const {
    if (!state_->options.respond) {
        return {};
    }
    return {std::string(disco_info_ns), std::string(disco_items_ns)};
}

void Disco::attached(Component& component) {
    state_->component = &component;
}

void Disco::detached(Component& component) {
    (void)component;
    state_->component = nullptr;
}

const Disco::Options& Disco::options() const {
    return state_->options;
}

void Disco::set_options(Options options) {
    state_->options = std::move(options);
}

// -- the responder ----------------------------------------------------------------------------

bool Disco::on_stanza(Component& component, const Node& stanza) {
    const Options& opt = state_->options;
    const Node& iq = inner_stanza(stanza);
    if (!opt.respond || iq.attr("type") != "get" || !detail::addressed_to_self(component, iq)) {
        return false;
    }
    const Node* info = find_child(iq, "query", disco_info_ns);
    const Node* query = info != nullptr ? info : find_child(iq, "query", disco_items_ns);
    if (query == nullptr) {
        return false; // something else in the namespace: not ours to judge
    }
    const std::string node = query->attr("node");
    const DiscoNode* known = nullptr;
    if (!node.empty()) {
        auto it = opt.nodes.find(node);
        if (it == opt.nodes.end()) {
            component.output(detail::iq_error(component, stanza, "cancel", "item-not-found"));
            return true;
        }
        known = &it->second;
    }

    Node reply = detail::iq_reply(component, stanza, "result");
    Node& answer = detail::reply_iq(reply).add_child("query", std::string(query->ns()));
    if (!node.empty()) {
        answer.set_attr("node", node);
    }
    if (info == nullptr) {
        put_items(answer, known != nullptr ? known->items : opt.items);
    } else if (known != nullptr) {
        put_identities(answer, known->identities);
        std::vector<std::string> features{std::string(disco_info_ns)};
        for (const auto& f : known->features) {
            add_unique(features, f);
        }
        put_features(answer, features);
    } else {
        put_identities(answer,
                       opt.identities.empty() ? default_identities(component) : opt.identities);
        std::vector<std::string> features{std::string(disco_info_ns), std::string(disco_items_ns)};
        for (const auto& f : opt.features) {
            add_unique(features, f);
        }
        for (const auto& f : attached_features()) {
            add_unique(features, f);
        }
        put_features(answer, features);
    }
    component.output(std::move(reply));
    return true;
}

// -- queries ----------------------------------------------------------------------------------

std::string Disco::query_info(std::string jid, std::string node,
                              std::chrono::milliseconds timeout) {
    return query(true, std::move(jid), std::move(node), {}, timeout);
}

std::string Disco::query_items(std::string jid, std::string node,
                               std::chrono::milliseconds timeout) {
    return query(false, std::move(jid), std::move(node), {}, timeout);
}

std::string Disco::query_info(std::string jid, std::string node, Handler callback,
                              std::chrono::milliseconds timeout) {
    if (!callback) {
        throw Error("disco: query_info: the callback must not be empty");
    }
    return query(true, std::move(jid), std::move(node), std::move(callback), timeout);
}

std::string Disco::query_items(std::string jid, std::string node, Handler callback,
                               std::chrono::milliseconds timeout) {
    if (!callback) {
        throw Error("disco: query_items: the callback must not be empty");
    }
    return query(false, std::move(jid), std::move(node), std::move(callback), timeout);
}

std::string Disco::query(bool info, std::string jid, std::string node, Handler callback,
                         std::chrono::milliseconds timeout) {
    Component* component = state_->component;
    if (component == nullptr) {
        throw StateError("disco: queries need the extension attached to a component");
    }
    Node iq = build("iq").attr("type", "get").attr("to", jid);
    Node& q = iq.add_child("query", std::string(info ? disco_info_ns : disco_items_ns));
    if (!node.empty()) {
        q.set_attr("node", node);
    }
    // The callback lives in the component's table of pending requests: the component is alive
    // whenever it runs, whether or not this extension still is.
    auto on_reply = [component, info, jid, node, callback = std::move(callback)](const Event& r) {
        const char* op = info ? "disco#info" : "disco#items";
        Event e;
        e.name = info ? ext::QUERY_INFO : ext::QUERY_ITEMS;
        e.node = r.node;
        Reason why;
        Payload payload;
        if (r.node == nullptr) {
            why = r.reason != nullptr ? *r.reason : Reason{};
            why.op = op;
            e.reason = &why;
        } else if (detail::is_error_reply(*r.node)) {
            why = detail::error_reply_reason(*r.node, op);
            e.reason = &why;
        } else if (info) {
            DiscoInfo d = parse_info(*r.node).value_or(DiscoInfo{});
            d.jid = jid;
            d.node = node;
            payload = std::move(d);
            e.payload = &payload;
        } else {
            DiscoItems d = parse_items(*r.node).value_or(DiscoItems{});
            d.jid = jid;
            d.node = node;
            payload = std::move(d);
            e.payload = &payload;
        }
        if (callback) {
            callback(e);
        } else {
            component->events().publish(e);
        }
    };
    return component->return_to_sender(detail::outbound(*component, std::move(iq)),
                                       std::move(on_reply), timeout);
}

std::optional<DiscoInfo> Disco::parse_info(const Node& reply) {
    const Node* query = result_query(reply, disco_info_ns);
    if (query == nullptr) {
        return std::nullopt;
    }
    DiscoInfo d;
    d.jid = inner_stanza(reply).attr("from");
    d.node = query->attr("node");
    for (const Node* child : query->elements()) {
        if (child->local_name() == "identity") {
            d.identities.push_back(DiscoIdentity{child->attr("category"), child->attr("type"),
                                                 child->attr("name"), child->attr("xml:lang")});
        } else if (child->local_name() == "feature") {
            d.features.push_back(child->attr("var"));
        }
    }
    return d;
}

std::optional<DiscoItems> Disco::parse_items(const Node& reply) {
    const Node* query = result_query(reply, disco_items_ns);
    if (query == nullptr) {
        return std::nullopt;
    }
    DiscoItems d;
    d.jid = inner_stanza(reply).attr("from");
    d.node = query->attr("node");
    for (const Node* child : query->elements()) {
        if (child->local_name() == "item") {
            d.items.push_back(
                DiscoItem{child->attr("jid"), child->attr("node"), child->attr("name")});
        }
    }
    return d;
}

} // namespace pcj
