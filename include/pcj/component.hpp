/// @file
/// Component: the connection broker — one connection of one type, its events, queue and filters.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "pcj/config.hpp"
#include "pcj/events.hpp"
#include "pcj/export.hpp"
#include "pcj/extension.hpp"
#include "pcj/log.hpp"
#include "pcj/node.hpp"
#include "pcj/outcome.hpp"
#include "pcj/pubsub.hpp"
#include "pcj/session.hpp"

struct uv_loop_s;
/// libuv's event loop: the one libuv type in pcj's API, and only as a pointer.
typedef struct uv_loop_s uv_loop_t;

namespace pcj {

namespace detail {
class ComponentImpl;
}

/// Where a connection stands. READY is the only state in which output() writes at once.
enum class State {
    disconnected,  ///< no connection (before connect(), after the end of one)
    connecting,    ///< finding the server and dialling it
    negotiating,   ///< connected; the stream, TLS and authentication are being negotiated
    ready,         ///< PCJ_READY fired: stanzas are written at once
    shutting_down, ///< shutdown() sent the closing tag and waits for the peer's
};
/// The state's name, as written above ("ready").
PCJ_EXPORT std::string_view to_string(State state);

/// The broker. Construct it with a Config (rejected at once with ConfigError when unusable) and,
/// optionally, a libuv loop it borrows; without one it owns its loop and run() drives it.
/// Every method must be called on the loop's thread. Destroying a component closes its
/// connection without events and releases every libuv handle it holds.
class PCJ_EXPORT Component {
public:
    /// Validates `config` (Config::validate_and_complete(); throws ConfigError) and sets the
    /// component up on `loop`, or on a loop of its own when `loop` is null. Connects nothing:
    /// call connect().
    explicit Component(Config config, uv_loop_t* loop = nullptr);
    /// Closes the connection without events and releases every handle; see the class.
    ~Component();
    Component(const Component&) = delete;
    Component& operator=(const Component&) = delete;

    // -- events ----------------------------------------------------------------------------
    /// The component's event registry: every event in pcj/events.hpp is published here.
    PubSub& events();
    /// events().subscribe(): `handler` gets each `event` until the Subscription goes.
    [[nodiscard]] Subscription subscribe(std::string_view event, Handler handler);
    /// events().subscribe_all(): `handler` gets every event (a tap).
    [[nodiscard]] Subscription subscribe_all(Handler handler);

    // -- PCJ's input events ----------------------------------------------------------------
    /// Starts a connection (closing any current one without events). reconnect() is the same.
    /// State that belongs to a connection (stream id, pending requests, protocol state) is
    /// reset; the output queue and the filters are kept. With Config::reconnect on, a
    /// connection that ends by failure is connected again by itself (doc/unattended.md).
    /// The forms with `host` and `port` connect there instead of config().ip and port.
    /// With Config::servers, connect() goes through the list from its start
    /// (doc/connecting.md); connect(host, port) replaces the list with that one server for good.
    ///@{
    void connect();
    void connect(std::string host, std::uint16_t port);
    void reconnect();
    void reconnect(std::string host, std::uint16_t port);
    ///@}

    /// READY: serialise and write (PCJ_NODESENT). Otherwise: queue (PCJ_NODEQUEUED).
    void output(Node node);
    /// The same, and `on_outcome` learns what became of the stanza (pcj/outcome.hpp): queued,
    /// then sent (with stream management: acked), or failed / dropped; one final report.
    void output(Node node, std::function<void(const Outcome&)> on_outcome);
    /// Sends every queued node in FIFO order (those that still cannot be sent stay queued).
    void purge_queue();

    /// Sends a request and routes the reply (the inbound node with the same id) to `event` or
    /// to `callback` instead of filters and PCJ_NODERECEIVED. An id is assigned when absent or
    /// when the given one is already pending. A timeout of zero means config().rts_timeout.
    /// On timeout or disconnect the requester gets an event whose reason's condition is
    /// "timeout" or "disconnected" and whose node is null. Returns the id used. For a jabberd2
    /// `<route/>` envelope the id is the one of the stanza inside it, which is what a reply echoes.
    ///@{
    std::string return_to_sender(Node node, std::string event,
                                 std::chrono::milliseconds timeout = {});
    std::string return_to_sender(Node node, Handler callback,
                                 std::chrono::milliseconds timeout = {});
    ///@}

    /// Compiles at once (throws XPathError on a bad expression). Each inbound stanza after READY
    /// that the expression selects anything from fires `event` with the expression, the selected
    /// nodes and the stanza. The stanza is the document root: "/message[@type='chat']" works.
    void add_filter(std::string event, std::string xpath);
    /// Removes every filter registered under `event`; returns how many there were.
    std::size_t remove_filter(std::string_view event);
    /// Binds a prefix for filter expressions: ns_prefix("disco", "http://jabber.org/…#info").
    void ns_prefix(std::string prefix, std::string uri);

    /// Sends `</stream:stream>`, waits (config().shutdown_timeout at most) for the peer's close,
    /// closes the socket. PCJ_STREAMEND, PCJ_SHUTDOWN_START, PCJ_SOCKETDISCONNECT and
    /// PCJ_SHUTDOWN_FINISH fire exactly once each. Does nothing when not connected, except
    /// that it always stops the reconnect policy (a pending attempt is cancelled).
    void shutdown();
    /// Drops the connection at once, without the closing handshake (for a peer that stopped
    /// answering): PCJ_SOCKETFAIL with the reason, then PCJ_SOCKETDISCONNECT. Requests waiting
    /// for replies get "disconnected"; the queue is kept. Does nothing when not connected.
    void abort(Reason reason);

    // -- extensions ------------------------------------------------------------------------
    /// Attaches an extension (throws Error when one with the same name is attached already).
    void attach(std::shared_ptr<Extension> extension);
    /// Detaches the extension with this name; false when there is none.
    bool detach(std::string_view name);
    /// The attached extension with this name, or null.
    Extension* extension(std::string_view name) const;

    // -- accessors -------------------------------------------------------------------------
    const std::string& sid() const; ///< id of the current stream, "" before one started
    const std::string& jid() const; ///< the authenticated address, "" until known
    /// The configuration in use, completed by Config::validate_and_complete().
    const Config& config() const;
    std::map<std::string, std::string> pending() const; ///< id → event ("" for a callback)
    /// The nodes waiting in the output queue, oldest first.
    const std::deque<Node>& queue() const;
    /// Where the connection stands.
    State state() const;
    /// state() == State::ready.
    bool ready() const { return state() == State::ready; }
    std::uint64_t id() const; ///< unique among the process's components
    /// The current connection's unique id (the `id` of its socket records): a new one for every
    /// connect(), never reused in the process; 0 before the first connect().
    std::uint64_t connection_id() const;
    /// The session state, as Prosody's session structure names it (type, JID parts, presence,
    /// roster, …; doc/session.md).
    ///@{
    const Session& session() const;
    Session& session();
    ///@}
    /// Fetches the roster (RFC 6121 §2.2) into session().roster(); ext::ROSTER_LOADED tells when
    /// it arrived (or why not). READY: asks now; connecting or negotiating: asks at READY.
    /// Throws StateError when disconnected or shutting down, or for a component type.
    void request_roster();
    /// When the last bytes arrived from the peer (the connect time before any).
    std::chrono::steady_clock::time_point last_received() const;

    // -- loop ------------------------------------------------------------------------------
    /// The loop the component runs on (its own or the one it borrowed).
    uv_loop_t* loop() const;
    /// Runs the loop until nothing is left to do (owned loop) or until stop(). Throws
    /// StateError for a borrowed loop: the application runs that one.
    void run();
    /// Makes run() return once the loop regains control (uv_stop()).
    void stop();

    /// Replaces the sink of the component's log lines (by default stderr_logger()).
    void set_logger(Logger logger);

    // -- the thread-safe door ------------------------------------------------------------------
    /// The only calls that may be made from any thread. Each wakes the loop, which does the work
    /// on its own thread, in the order the calls were made (per calling thread). They must not
    /// race with the component's destruction.
    ///
    /// submit(node) is output(node) on the loop thread; post(task) runs task(*this) there.
    ///@{
    void submit(Node node);
    void post(std::function<void(Component&)> task);
    ///@}

private:
    std::unique_ptr<detail::ComponentImpl> impl_;
};

} // namespace pcj
