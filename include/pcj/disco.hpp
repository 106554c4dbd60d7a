/// @file
/// Disco: XEP-0030 service discovery — queries of any JID's info and items, and a responder that
/// answers for the component itself.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pcj/export.hpp"
#include "pcj/extension.hpp"
#include "pcj/payload.hpp"
#include "pcj/pubsub.hpp"

namespace pcj {

/// The namespace of XEP-0030 info queries.
inline constexpr std::string_view disco_info_ns = "http://jabber.org/protocol/disco#info";
/// The namespace of XEP-0030 items queries.
inline constexpr std::string_view disco_items_ns = "http://jabber.org/protocol/disco#items";

/// What the responder answers for one node of the component.
struct PCJ_EXPORT DiscoNode {
    std::vector<DiscoIdentity> identities; ///< the node's identities
    std::vector<std::string> features;     ///< disco#info is always announced as well
    std::vector<DiscoItem> items;          ///< the node's items (disco#items)
};

/// XEP-0030 service discovery. Attach with `component.attach(std::make_shared<Disco>())` (name
/// "disco").
///
/// Queries: query_info() and query_items() send the get through return_to_sender and publish
/// ext::QUERY_INFO / ext::QUERY_ITEMS with the reply as node and a DiscoInfo / DiscoItems
/// payload — or, for an error reply, a timeout or a lost connection, the same event with a
/// Reason (condition "item-not-found", "timeout", "disconnected", …) and no payload. A component
/// sends them from its own address; a jabberd2 component in a route from its bound domain.
///
/// Responder: a disco#info or disco#items get addressed to the component itself (a component's
/// domain, a client's full or bare JID) is answered and consumed. Without a node it gets the
/// configured identities, the features disco#info, disco#items, the configured ones and every
/// attached extension's features(), and the configured items; a configured node gets its own
/// answer; any other node gets item-not-found. Queries to other addresses a component serves
/// (user@its.domain) go on to the filters and PCJ_NODERECEIVED.
class PCJ_EXPORT Disco final : public Extension {
public:
    /// What the responder answers.
    struct Options {
        /// Empty: {"component", "generic"} for the component types, {"client", "bot"} for
        /// the client types (an automated client, in XEP-0030's registry).
        std::vector<DiscoIdentity> identities;
        std::vector<std::string> features;      ///< announced beside the built-in ones
        std::vector<DiscoItem> items;           ///< the items of the component itself
        std::map<std::string, DiscoNode> nodes; ///< node → its answer
        bool respond = true;                    ///< false: answer nothing, consume nothing
    };

    /// A responder with the default Options, or with `options`.
    ///@{
    Disco();
    explicit Disco(Options options);
    ///@}
    ~Disco() override;

    std::string_view name() const override { return "disco"; }
    std::vector<StanzaMatch> handles() const override;
    std::vector<std::string> emits() const override;
    std::vector<std::string> features() const override;
    void attached(Component& component) override;
    /// Cancels the requests the extension still waits for.
    void detached(Component& component) override;
    bool on_stanza(Component& component, const Node& stanza) override;

    /// Send the query and publish the outcome (see above). Return the request's id. A timeout
    /// of zero means the component's rts_timeout. Throw StateError when not attached. The forms
    /// with a `callback` give it the event instead of publishing it.
    ///@{
    std::string query_info(std::string jid, std::string node = {},
                           std::chrono::milliseconds timeout = {});
    std::string query_items(std::string jid, std::string node = {},
                            std::chrono::milliseconds timeout = {});
    std::string query_info(std::string jid, std::string node, Handler callback,
                           std::chrono::milliseconds timeout = {});
    std::string query_items(std::string jid, std::string node, Handler callback,
                            std::chrono::milliseconds timeout = {});
    ///@}

    /// Read a disco#info / disco#items result (a route for jabberd2); nullopt when it is not
    /// one. `jid` and `node` are taken from the reply ('from', the query's node).
    ///@{
    static std::optional<DiscoInfo> parse_info(const Node& reply);
    static std::optional<DiscoItems> parse_items(const Node& reply);
    ///@}

    /// What the responder answers now.
    const Options& options() const;
    /// What the responder answers from now on.
    void set_options(Options options);

private:
    struct State;
    std::string query(bool info, std::string jid, std::string node, Handler callback,
                      std::chrono::milliseconds timeout);
    std::shared_ptr<State> state_;
};

} // namespace pcj
