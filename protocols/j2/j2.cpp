// JABBERD20_COMPONENT (jabberd2 router component protocol) as a state machine.
#include "j2.hpp"

#include <cstdlib>
#include <vector>

#include "pcj/events.hpp"
#include "pcj/route.hpp"

namespace pcj::detail {

namespace {
// What the router's numeric bind errors mean (jabberd2 router.c).
std::string bind_error_text(const std::string& code, const Config& c) {
    const std::string name = "'" + c.bind_domain + "'";
    if (code == "409") {
        return "the router refused to bind " + name + ": another component has bound it";
    }
    if (code == "403") {
        return "the router refused to bind " + name + ": user '" + c.username +
               "' may not bind that name (no bind ACL)";
    }
    if (code == "400") {
        return "the router refused to bind " + name + ": bad request";
    }
    return "the router refused to bind " + name + " (error " + code + ")";
}
} // namespace

J2Protocol::J2Protocol(ProtocolHost& host)
    : Negotiation(host, {.peer = "router", .activity = "the negotiation"}) {}

J2Protocol::~J2Protocol() = default;

void J2Protocol::on_element(const Node& node) {
    if (negotiating() && step_ == Step::binding && node.local_name() == "bind") {
        // Replies carrying our id never get here. One without it cannot be told apart from a
        // stray element, so the negotiation timeout ends the wait (PCJ waited forever).
        host_.log(LogLevel::warning, "ignoring a <bind/> reply without the request's id");
    }
}

void J2Protocol::on_features(const Node& features) {
    if (!report_features(host_, features) || !negotiating() || step_ != Step::features) {
        return;
    }
    if (authenticated()) {
        start_bind(); // the router's post-authentication features are empty
        return;
    }
    if (secure(features, "TLS is required but the router does not offer STARTTLS (it has no "
                         "pemfile); no credentials were sent")) {
        start_sasl(features); // the router cannot check a channel binding: no -PLUS
    }
}

void J2Protocol::start_bind() {
    const Config& c = host_.config();
    step_ = Step::binding;
    if (!announce(ev::BINDNEGOTIATE)) {
        return;
    }
    Node bind("bind", std::string(jabberd2_component_ns));
    bind.set_attr("name", c.bind_domain);
    if (!c.bind_option.empty()) {
        bind.add_child(c.bind_option); // e.g. <log/> or <default/>
    }
    request(std::move(bind), [this](const Node& reply) { on_bind_reply(reply); });
}

void J2Protocol::on_bind_reply(const Node& reply) {
    if (step_ != Step::binding) {
        return;
    }
    const Config& c = host_.config();
    if (const std::string* error = reply.find_attr("error")) {
        fail(ev::BINDFAIL, {"bind", std::atoi(error->c_str()), *error, bind_error_text(*error, c)});
        return;
    }
    complete();
    host_.set_jid(c.bind_domain);
    // The router now routes the bound name to us: jabberd2's counterpart of XEP-0114's
    // accepted <handshake/>.
    if (announce(xs::SUCCESS_HANDSHAKE, &reply)) {
        succeed(ev::BINDSUCCESS);
    }
}

std::string J2Protocol::timeout_text() const {
    if (negotiating() && step_ == Step::binding) {
        return "the router did not answer the bind of '" + host_.config().bind_domain + "' in time";
    }
    return "the router did not complete this negotiation step in time";
}

std::string_view J2Protocol::step_failure_event() const {
    return step_ == Step::binding || authenticated() ? ev::BINDFAIL : ev::AUTHFAIL;
}

namespace {
// A jabberd2 <route/> carries one stanza; a reply echoes that stanza's id, not the route's.
const Node* route_envelope_payload(const Node& node) {
    return route_payload(node);
}
} // namespace

PCJ_REGISTER_PROTOCOL(ConnectionType::JABBERD20_COMPONENT, J2Protocol, route_envelope_payload)

} // namespace pcj::detail
