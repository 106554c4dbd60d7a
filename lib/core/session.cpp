// SessionKeeper: the session state of seeds/002 (Prosody's session structure), the roster
// (RFC 6121 §2: fetch, pushes and their acknowledgement) and the session's own presence
// (RFC 6121 §4: the last undirected presence sent).
#include "session.hpp"

#include <charconv>
#include <vector>

#include "component_impl.hpp"
#include "pcj/error.hpp"

namespace pcj {

void Session::send(Node node) {
    impl_.output(std::move(node));
}

void Session::close() {
    impl_.shutdown();
}

void Session::close(Reason reason) {
    impl_.shutdown(&reason);
}

// Component's one roster method lives here, beside the SessionKeeper that does the work.
void Component::request_roster() {
    impl_->session_.request_roster();
}

} // namespace pcj

namespace pcj::detail {

namespace {

constexpr std::string_view ns_roster = "jabber:iq:roster";
constexpr std::string_view ns_stanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";
constexpr std::string_view ns_rosterver = "urn:xmpp:features:rosterver";

std::string bare_of(std::string_view jid) {
    return std::string(jid.substr(0, jid.find('/')));
}

// JIDs compare case-insensitively in their local and domain parts once prepared; an ASCII
// fold is what a client can do without a stringprep library, and covers what servers send.
bool same_bare_jid(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto fold = [](char c) {
            return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
        };
        if (fold(a[i]) != fold(b[i])) {
            return false;
        }
    }
    return true;
}

RosterItem parse_item(const Node& item) {
    RosterItem r;
    r.jid = item.attr("jid");
    r.name = item.attr("name");
    if (const std::string* sub = item.find_attr("subscription"); sub != nullptr && !sub->empty()) {
        r.subscription = *sub;
    }
    r.ask = item.attr("ask") == "subscribe";
    for (const Node* child : item.elements()) {
        if (child->local_name() == "group") {
            r.groups.push_back(child->text());
        }
    }
    return r;
}

const Node* roster_query(const Node& iq) {
    for (const Node* child : iq.elements()) {
        if (child->local_name() == "query" && child->ns() == ns_roster) {
            return child;
        }
    }
    return nullptr;
}

// A stanza error (RFC 6120 §8.3) as a Reason; the pre-XMPP code='…' when there is no condition.
Reason stanza_error(const Node& reply) {
    Reason why{"roster", 0, {}, {}};
    if (const Node* error = reply.child("error")) {
        for (const Node* child : error->elements()) {
            if (child->local_name() == "text") {
                why.text = child->text();
            } else if (why.condition.empty() && child->ns() == ns_stanzas) {
                why.condition = std::string(child->local_name());
            }
        }
        const std::string code = error->attr("code");
        std::from_chars(code.data(), code.data() + code.size(), why.code);
        if (why.condition.empty()) {
            why.condition = code.empty() ? "undefined-condition" : code;
        }
        if (why.text.empty()) {
            why.text = error->text();
        }
    }
    if (why.condition.empty()) {
        why.condition = "undefined-condition";
    }
    if (why.text.empty()) {
        why.text = "the server refused the roster request: " + why.condition;
    }
    return why;
}

// <priority/> of an available presence: an integer from -128 to 127 (RFC 6121 §4.7.2.3);
// anything else counts as the default, 0.
int parse_priority(const Node& presence) {
    const Node* p = presence.child("priority");
    if (p == nullptr) {
        return 0;
    }
    const std::string text = p->text();
    int value = 0;
    const char* first = text.data();
    const char* last = text.data() + text.size();
    if (first != last && *first == '+') {
        ++first;
    }
    auto [end, ec] = std::from_chars(first, last, value);
    if (ec != std::errc() || end != last || value < -128 || value > 127) {
        return 0;
    }
    return value;
}

} // namespace

SessionKeeper::SessionKeeper(SessionHost& host, ComponentImpl& component)
    : host_(host), session_(component) {
    session_.type_ = client() ? "c2s_unauthed" : "component_unauthed";
}

bool SessionKeeper::client() const {
    const auto& type = host_.config().connection_type;
    return !type || *type == ConnectionType::XMPP || *type == ConnectionType::LEGACY;
}

bool SessionKeeper::authenticated() const {
    return session_.type_ == "c2s" || session_.type_ == "component";
}

void SessionKeeper::mark_authenticated() {
    session_.type_ = client() ? "c2s" : "component";
}

// -- connection lifecycle ----------------------------------------------------------------------

void SessionKeeper::on_connect() {
    session_.type_ = client() ? "c2s_unauthed" : "component_unauthed";
    session_.username_.clear();
    session_.host_.clear();
    session_.resource_.clear();
    session_.full_jid_.clear();
    session_.priority_ = 0;
    session_.presence_.reset();
    session_.interested_ = false;
    session_.roster_.clear();
    session_.roster_version_.clear();
    session_.open_ = false;
    roster_at_ready_ = false;
    roster_in_flight_ = false;
    server_roster_ver_ = false;
    app_roster_get_id_.clear();
}

void SessionKeeper::on_stream_open(const Node& header) {
    session_.open_ = true;
    const std::string* from = header.find_attr("from");
    session_.host_ = from != nullptr && !from->empty() ? *from : host_.config().hostname;
}

void SessionKeeper::on_features(const Node& features) {
    for (const Node* child : features.elements()) {
        if (child->local_name() == "ver" && child->ns() == ns_rosterver) {
            server_roster_ver_ = true;
        }
    }
}

void SessionKeeper::on_stream_end() {
    session_.open_ = false;
}

void SessionKeeper::on_authenticated() {
    mark_authenticated();
    if (client() && session_.username_.empty()) {
        session_.username_ = host_.config().username;
    }
}

// XMPP: the bound JID is authoritative for all three parts (the server may fold case or pick
// the resource). LEGACY: the JID iq:auth logged in with. Components: their domain, which is the
// whole of their address: no local part, no resource.
void SessionKeeper::on_bound(const std::string& jid) {
    session_.full_jid_ = jid;
    const std::string bare = bare_of(jid);
    session_.resource_ = bare.size() < jid.size() ? jid.substr(bare.size() + 1) : std::string();
    const std::size_t at = bare.find('@');
    if (client() && at != std::string::npos) {
        session_.username_ = bare.substr(0, at);
        session_.host_ = bare.substr(at + 1);
    } else {
        session_.host_ = bare.substr(at == std::string::npos ? 0 : at + 1);
    }
}

void SessionKeeper::on_ready() {
    // READY means the peer accepted us, whatever the protocol called it.
    if (!authenticated()) {
        on_authenticated();
    }
    if (client() && (host_.config().roster_fetch || roster_at_ready_)) {
        roster_at_ready_ = false;
        send_roster_get();
    }
}

// The connection is gone: it is no longer a connected (nor available, nor interested)
// resource. What was learnt about the account (type, username, host, roster) stays readable
// until the next connect() resets it.
void SessionKeeper::on_closed() {
    session_.open_ = false;
    session_.resource_.clear();
    session_.full_jid_.clear();
    session_.presence_.reset();
    session_.priority_ = 0;
    session_.interested_ = false;
    roster_at_ready_ = false;
    roster_in_flight_ = false;
    app_roster_get_id_.clear();
}

// -- the roster fetch ----------------------------------------------------------------------------

void SessionKeeper::request_roster() {
    if (!client()) {
        throw StateError("request_roster: only XMPP and LEGACY clients have a roster");
    }
    switch (host_.state()) {
    case State::ready:
        send_roster_get();
        return;
    case State::connecting:
    case State::negotiating:
        roster_at_ready_ = true;
        return;
    default:
        throw StateError("request_roster: not connected");
    }
}

void SessionKeeper::send_roster_get() {
    if (roster_in_flight_) {
        return; // one answer fills the roster for both askers
    }
    Node iq("iq");
    iq.set_attr("type", "get");
    Node& query = iq.add_child("query", std::string(ns_roster));
    if (server_roster_ver_) {
        // RFC 6121 §2.6: the empty version asks for the whole roster and for versioned pushes.
        query.set_attr("ver", session_.roster_version_);
    }
    PendingRequest request;
    const std::uint64_t connection = host_.connection_id();
    request.callback = [this, connection](const Event& e) {
        on_roster_reply(connection, e);
    };
    request.internal = true; // no PCJ_RTS_FINISH; lost with the connection, like the bind
    roster_in_flight_ = true;
    host_.request(std::move(iq), std::move(request));
}

void SessionKeeper::on_roster_reply(std::uint64_t connection, const Event& e) {
    if (connection != host_.connection_id()) {
        return; // an answer for a connection that has since been replaced
    }
    roster_in_flight_ = false;
    if (e.node == nullptr) {
        roster_failed(e.reason != nullptr ? *e.reason
                                          : Reason{"roster", 0, "timeout", "no roster reply"},
                      nullptr);
        return;
    }
    if (e.node->attr("type") != "result") {
        roster_failed(stanza_error(*e.node), e.node);
        return;
    }
    load_roster(*e.node);
}

void SessionKeeper::load_roster(const Node& result) {
    // RFC 6121 §2.6.3: a result without a query means "your version is current, pushes follow".
    if (const Node* query = roster_query(result)) {
        session_.roster_.clear();
        for (const Node* child : query->elements()) {
            if (child->local_name() != "item") {
                continue;
            }
            RosterItem item = parse_item(*child);
            if (!item.jid.empty()) {
                std::string key = item.jid;
                session_.roster_.insert_or_assign(std::move(key), std::move(item));
            }
        }
        session_.roster_version_ = query->attr("ver");
    }
    session_.interested_ = true;
    host_.emitter().emit(ext::ROSTER_LOADED, nullptr, &result);
}

void SessionKeeper::roster_failed(const Reason& why, const Node* reply) {
    host_.emitter().emit(ext::ROSTER_LOADED, &why, reply);
}

// -- what passes on the connection -------------------------------------------------------------

void SessionKeeper::on_outbound(const Node& stanza) {
    const std::string_view name = stanza.local_name();
    if (name == "presence") {
        track_presence(stanza);
        return;
    }
    // A roster get the application writes itself: its answer fills the roster too.
    if (name == "iq" && client() && stanza.attr("type") == "get" &&
        roster_query(stanza) != nullptr) {
        const std::string id = stanza.attr("id");
        if (!id.empty() && !host_.awaiting_reply(id)) {
            app_roster_get_id_ = id; // a return_to_sender reply never reaches on_inbound
        }
    }
}

// RFC 6121 §4.2/§4.5: only presence without 'to' is the session's own (broadcast) presence;
// directed presence says nothing about it. type='unavailable' ends availability.
void SessionKeeper::track_presence(const Node& presence) {
    if (const std::string* to = presence.find_attr("to"); to != nullptr && !to->empty()) {
        return;
    }
    const std::string* type = presence.find_attr("type");
    if (type == nullptr) {
        session_.presence_ = presence;
        session_.priority_ = parse_priority(presence);
    } else if (*type == "unavailable") {
        session_.presence_.reset();
        session_.priority_ = 0;
    }
}

bool SessionKeeper::on_inbound(const Node& stanza) {
    if (stanza.local_name() != "iq" || !client()) {
        return false;
    }
    if (!app_roster_get_id_.empty() && stanza.attr("id") == app_roster_get_id_) {
        const std::string type = stanza.attr("type");
        if (type == "result" || type == "error") {
            app_roster_get_id_.clear();
            if (type == "result") {
                load_roster(stanza);
            }
            return false; // the application asked: it gets its answer as usual
        }
    }
    if (!is_roster_push(stanza)) {
        return false;
    }
    handle_push(stanza);
    return true;
}

bool SessionKeeper::is_roster_push(const Node& stanza) const {
    return stanza.attr("type") == "set" && roster_query(stanza) != nullptr;
}

// RFC 6121 §2.1.6: a push is genuine only without 'from' or from the account's bare JID.
bool SessionKeeper::from_own_account(const Node& stanza) const {
    const std::string* from = stanza.find_attr("from");
    if (from == nullptr || from->empty()) {
        return true;
    }
    const std::string own = bare_of(session_.full_jid_.empty() ? host_.jid() : session_.full_jid_);
    return !own.empty() && same_bare_jid(*from, own);
}

void SessionKeeper::handle_push(const Node& push) {
    if (!from_own_account(push)) {
        host_.emitter().log(LogLevel::warning, "refused a roster push from '" + push.attr("from") +
                                                   "' (RFC 6121 §2.1.6)");
        refuse(push, "cancel", "service-unavailable");
        return;
    }
    const Node* query = roster_query(push);
    std::vector<const Node*> items;
    for (const Node* child : query->elements()) {
        if (child->local_name() == "item") {
            items.push_back(child);
        }
    }
    RosterChange change{items.size() == 1 ? parse_item(*items.front()) : RosterItem{},
                        query->attr("ver")};
    if (items.size() != 1 || change.item.jid.empty()) {
        refuse(push, "modify", "bad-request"); // RFC 6121 §2.1.6: exactly one item
        return;
    }
    if (change.item.subscription == "remove") {
        session_.roster_.erase(change.item.jid);
    } else {
        session_.roster_.insert_or_assign(change.item.jid, change.item);
    }
    if (query->has_attr("ver")) {
        session_.roster_version_ = change.version;
    }
    Node ack("iq");
    ack.set_attr("type", "result");
    ack.set_attr("id", push.attr("id"));
    if (push.has_attr("from")) {
        ack.set_attr("to", push.attr("from"));
    }
    const std::uint64_t connection = host_.connection_id();
    host_.output(std::move(ack));
    if (connection == host_.connection_id() && host_.state() == State::ready &&
        host_.emitter().wanted(ext::ROSTER_PUSHED)) {
        host_.emitter().emit(ext::ROSTER_PUSHED, Payload(std::move(change)), &push);
    }
}

void SessionKeeper::refuse(const Node& stanza, const char* type, const char* condition) {
    Node reply("iq");
    reply.set_attr("type", "error");
    reply.set_attr("id", stanza.attr("id"));
    if (stanza.has_attr("from")) {
        reply.set_attr("to", stanza.attr("from"));
    }
    Node& error = reply.add_child("error");
    error.set_attr("type", type);
    error.add_child(condition, std::string(ns_stanzas));
    host_.output(std::move(reply));
}

} // namespace pcj::detail
