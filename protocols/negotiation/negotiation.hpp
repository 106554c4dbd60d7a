// Negotiation: the skeleton every connection type's state machine is built on.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "protocol.hpp"
#include "sasl_exchange.hpp"

namespace pcj::detail {

// What the four connection types share, written once: the stream header on connect, a stream
// error ending the current step, STARTTLS (RFC 6120 §5.4), the SASL exchange (§6), the one exit
// through fail(), and the guards that make a late event (a reply, a TLS result, a lost
// connection) harmless once the negotiation has finished. Each module keeps its own steps in its
// own enum and sees these shared phases only through the hooks below:
//
//   negotiating (the module's own step) ──begin_starttls()──▶ tls_proceed ──<proceed/>──▶
//   tls_handshake ──established──▶ negotiating (on_secured(), new stream)
//   negotiating ──start_sasl()──▶ sasl ──<success/>──▶ negotiating (authenticated(), new stream)
//   any phase ──fail() / lost / stream error──▶ failed;  negotiating ──complete()──▶ done
//
// A failure goes out as the event of the phase it happened in: PCJ_SSLFAIL during STARTTLS,
// PCJ_AUTHFAIL during SASL, and the module's step_failure_event() otherwise.
class Negotiation : public Protocol {
public:
    ~Negotiation() override;
    void on_connected() override;
    void on_stream_start(const Node& header) override;
    void on_node(const Node& node) final;
    void on_stream_end() final;
    void on_connection_lost(const Reason& reason) final;
    void on_timeout() final;
    void on_tls_established() final;
    void on_tls_failed(const Reason& reason) final;

protected:
    // How reasons name things: `peer` is "server" or "router", `activity` what is under way
    // ("the negotiation", "the login"), `op` the reasons' operation ("negotiate").
    struct Wording {
        std::string_view peer;
        std::string_view activity;
        std::string_view op = "negotiate";
    };
    Negotiation(ProtocolHost& host, Wording wording);

    // <stream:features/> while negotiating (a module that reports them calls report_features).
    virtual void on_features(const Node& features) = 0;
    // Any other element while negotiating that the shared phases do not take.
    virtual void on_element(const Node& node) { (void)node; }
    // The failure event of the module's current step (outside STARTTLS and SASL).
    virtual std::string_view step_failure_event() const = 0;
    // TLS is up: reset the module's step before the stream restarts over it.
    virtual void on_secured() {}
    // The channel binding the peer can check, for SASL's -PLUS mechanisms; none by default.
    virtual std::pair<std::string, std::string> sasl_binding(const Node& features) const;
    // The reason's text when the negotiation timeout fires.
    virtual std::string timeout_text() const;

    bool negotiating() const { return phase_ == Phase::negotiating; }
    bool finished() const { return phase_ == Phase::done || phase_ == Phase::failed; }
    bool authenticated() const { return authenticated_; }
    std::string_view peer() const { return wording_.peer; }

    // The event a failure now belongs to.
    std::string_view failure_event() const;
    // The one exit: fires `event` with the reason and closes (host.fail), once.
    void fail(std::string_view event, Reason reason);
    // fail() with this phase's event and the wording's operation.
    void fail_here(std::string condition, std::string text);
    // Negotiation succeeded: later failures and replies are ignored.
    void complete() { phase_ = Phase::done; }
    // Fires `event` (with `node`); false when a handler replaced the connection.
    bool announce(std::string_view event, const Node* node = nullptr);
    // The last step succeeded: complete(), fires `event` (if any), then hands the connection to
    // the core, which fires PCJ_READY.
    void succeed(std::string_view event = {});

    // An internal request whose reply reaches `on_reply` only while negotiating (not after a
    // failure, a completion or the start of STARTTLS) and only when there is a reply node.
    void request(Node node, std::function<void(const Node&)> on_reply);

    // STARTTLS under the configured policy: true when the module should go on in the clear.
    // Otherwise <starttls/> was sent, or the negotiation failed with `refusal` as the text of
    // tls-not-offered, or a handler replaced the connection.
    bool secure(const Node& features, std::string refusal);
    // Sends <starttls/>: the <proceed/> and the handshake are handled here.
    void begin_starttls();
    // Starts SASL with the <mechanisms/> of `features`: on <success/> the stream restarts and
    // the module sees the new features with authenticated() true.
    void start_sasl(const Node& features);

    ProtocolHost& host_;

private:
    enum class Phase { negotiating, tls_proceed, tls_handshake, sasl, done, failed };

    void on_tls_answer(const Node& answer);
    void on_sasl(const Node& node);

    Wording wording_;
    Phase phase_ = Phase::negotiating;
    bool authenticated_ = false;
    std::unique_ptr<SaslExchange> sasl_;
};

} // namespace pcj::detail
