/// @file
/// Ping: XEP-0199 XMPP Ping — answers pings, pings any JID, and keeps an idle connection honest.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pcj/events.hpp"
#include "pcj/export.hpp"
#include "pcj/extension.hpp"

namespace pcj {

/// The namespace of XEP-0199 pings.
inline constexpr std::string_view ping_ns = "urn:xmpp:ping";

/// The outcome of Ping::ping().
struct PCJ_EXPORT PingResult {
    bool answered = false;           ///< a reply came: a result or an error (both prove the path)
    std::chrono::microseconds rtt{}; ///< request written → reply read, when answered
    std::string error;               ///< the error condition of an error reply ("" for a result)
    std::optional<Reason> failure;   ///< when not answered: condition "timeout" or "disconnected"
};

/// XEP-0199 XMPP Ping. Attach with `component.attach(std::make_shared<Ping>(options))` (name
/// "ping").
///
/// Answers `<iq type="get"><ping xmlns="urn:xmpp:ping"/></iq>` addressed to the component itself
/// (as Disco decides it) with an empty result, and consumes it.
///
/// Keepalive (interval > 0): while the component is READY and nothing has been received for
/// `interval`, it pings `keepalive_to` through return_to_sender. Any reply, an error included
/// (a server without XEP-0199 answers service-unavailable), proves the link alive; then it waits
/// for the next idle interval. No reply within `timeout` publishes ext::PING_TIMEOUT with
/// Reason{"keepalive", 0, "timeout", …} and then calls Component::abort() with that reason
/// (PCJ_SOCKETFAIL, PCJ_SOCKETDISCONNECT): a half-open TCP connection is found within
/// interval + timeout of the last byte received.
///
/// The default target: a client's server (the configured hostname); a component's own domain,
/// which the server routes back to it, so the reply proves the whole path through the server
/// (every server routes a component's stanza to itself back to it; a server's own domain may not
/// answer components at all).
class PCJ_EXPORT Ping final : public Extension {
public:
    /// What the extension answers and how it keeps the connection honest.
    struct Options {
        std::chrono::milliseconds interval{0};     ///< idle time before a keepalive; 0: none
        std::chrono::milliseconds timeout{10'000}; ///< wait for the keepalive's reply
        std::string keepalive_to;                  ///< empty: the default target above
        bool respond = true;                       ///< answer pings addressed to us
    };
    /// What ping() calls with the result.
    using Callback = std::function<void(const PingResult&)>;

    /// With the default Options (answers pings, no keepalive), or with `options`.
    ///@{
    Ping();
    explicit Ping(Options options);
    ///@}
    ~Ping() override;

    std::string_view name() const override { return "ping"; }
    std::vector<StanzaMatch> handles() const override;
    std::vector<std::string> emits() const override;
    std::vector<std::string> features() const override;
    void attached(Component& component) override;
    /// Stops the keepalive timer and forgets the requests it waits for.
    void detached(Component& component) override;
    bool on_stanza(Component& component, const Node& stanza) override;

    /// Pings `jid` once; `callback` gets the round-trip time or why there was none. A timeout of
    /// zero means the component's rts_timeout. Returns the request's id. Throws StateError when
    /// not attached.
    std::string ping(std::string jid, Callback callback, std::chrono::milliseconds timeout = {});

    /// The options it was made with.
    const Options& options() const;
    /// Keepalive pings sent, and those answered, since the extension was made.
    ///@{
    std::uint64_t keepalives_sent() const;
    std::uint64_t keepalives_answered() const;
    ///@}

private:
    struct State;
    std::shared_ptr<State> state_;
};

} // namespace pcj
