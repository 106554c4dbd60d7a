// SaslExchange: the SASL elements on the wire, around lib/sasl's SaslClient.
#include "sasl_exchange.hpp"

#include <vector>

#include "encoding.hpp"
#include "pcj/events.hpp"

namespace pcj::detail {

namespace {

SaslOptions sasl_options(const Config& c) {
    SaslOptions o;
    o.username = c.username;
    o.password = c.password;
    o.authzid = c.sasl.authzid;
    o.hostname = c.hostname;
    o.allowed = c.sasl.mechanisms;
    o.allow_plaintext_password = c.sasl.allow_plaintext_password;
    o.max_scram_iterations = c.sasl.max_scram_iterations;
    return o;
}

// RFC 6120 §6.5: <failure/> carries a defined condition and maybe a <text/>.
Reason failure_reason(const Node& failure, const std::string& peer) {
    Reason r{"sasl", 0, "", ""};
    for (const Node* c : failure.elements()) {
        if (c->local_name() == "text") {
            r.text = c->text();
        } else if (r.condition.empty()) {
            r.condition = std::string(c->local_name());
        }
    }
    if (r.condition.empty()) {
        r.condition = "not-authorized";
    }
    if (r.text.empty()) {
        r.text = "the " + peer + " refused authentication (" + r.condition + ")";
    }
    return r;
}

} // namespace

SaslExchange::SaslExchange(ProtocolHost& host, std::string peer)
    : host_(host), peer_(std::move(peer)) {}

SaslExchange::Outcome SaslExchange::start(const Node& mechanisms,
                                          const std::pair<std::string, std::string>& binding,
                                          Reason* why) {
    std::vector<std::string> offered;
    for (const Node* m : mechanisms.elements()) {
        if (m->local_name() == "mechanism") {
            offered.push_back(m->text());
        }
    }
    client_ = std::make_unique<SaslClient>(sasl_options(host_.config()));
    const auto mech = client_->choose(offered, host_.encrypted(), !binding.first.empty(), why);
    if (!mech) {
        return Outcome::failed;
    }
    mechanism_ = *mech;
    host_.emit(ev::AUTHNEGOTIATE);
    if (!host_.current()) {
        return Outcome::pending;
    }
    SaslStep first = client_->start(*mech, binding);
    if (first.kind == SaslStep::Kind::failed) {
        *why = first.reason;
        return Outcome::failed;
    }
    Node auth("auth", std::string(ns_sasl));
    auth.set_attr("mechanism", *mech);
    if (!first.data.empty()) {
        auth.add_text(base64_encode(first.data));
    } else if (*mech != "DIGEST-MD5") {
        auth.add_text("="); // RFC 6120 §6.4.2: an empty initial response
    }
    host_.send(auth);
    return Outcome::pending;
}

SaslExchange::Outcome SaslExchange::handle(const Node& node, Reason* why) {
    const auto local = node.local_name();
    if (local == "failure") {
        *why = failure_reason(node, peer_);
        report(xs::SASL_FAILURE, &node, 0, why);
        return Outcome::failed;
    }
    if (client_ == nullptr || (local != "challenge" && local != "success")) {
        return Outcome::pending; // not part of an exchange we started
    }
    if (busy_) {
        *why = {"sasl", 0, "unexpected-challenge",
                "the " + peer_ + " sent <" + node.name() + "/> before pcj answered its challenge"};
        return Outcome::failed;
    }
    report(local == "success" ? xs::SASL_SUCCESS : xs::SASL_CHALLENGE, &node, 0);
    if (!host_.current()) {
        return Outcome::pending; // a handler replaced the connection
    }
    const auto data = base64_decode(node.text());
    if (!data) {
        *why = {"sasl", 0, "incorrect-encoding",
                "the " + peer_ + "'s <" + node.name() + "/> is not valid base64"};
        return Outcome::failed;
    }
    if (local == "success") {
        // Verifies the SCRAM server signature or DIGEST-MD5's rspauth when it comes here.
        SaslStep done = client_->finish(*data);
        if (done.kind != SaslStep::Kind::done) {
            *why = done.reason;
            return Outcome::failed;
        }
        return Outcome::succeeded;
    }
    if (auto work = client_->precompute(*data)) {
        busy_ = true;
        const std::weak_ptr<bool> alive = alive_;
        host_.run_off_loop(std::move(work), [this, alive, challenge = std::move(*data)] {
            if (alive.expired()) {
                return; // the connection is gone
            }
            busy_ = false;
            Reason later;
            if (host_.current() && answer(challenge, &later) == Outcome::failed) {
                host_.fail(ev::AUTHFAIL, std::move(later));
            }
        });
        return Outcome::pending;
    }
    return answer(*data, why);
}

// Runs one challenge through the client and sends the response.
SaslExchange::Outcome SaslExchange::answer(const std::string& challenge, Reason* why) {
    SaslStep step = client_->step(challenge);
    if (step.kind == SaslStep::Kind::failed) {
        host_.send(Node("abort", std::string(ns_sasl)));
        *why = step.reason;
        return Outcome::failed;
    }
    Node response("response", std::string(ns_sasl));
    std::size_t length = 0;
    if (!step.data.empty()) {
        std::string encoded = base64_encode(step.data);
        length = encoded.size();
        response.add_text(std::move(encoded));
    }
    host_.send(response);
    if (host_.current()) {
        report(xs::SASL_RESPONSE, nullptr, length);
    }
    return Outcome::pending;
}

// The data is the element's text for what the peer sent; a response passes only its length.
void SaslExchange::report(std::string_view event, const Node* node, std::size_t length,
                          const Reason* reason) {
    if (!host_.wanted(event)) {
        return;
    }
    pcj::SaslStep step;
    step.mechanism = mechanism_;
    if (node != nullptr) {
        step.data = node->text();
        step.length = step.data.size();
    } else {
        step.length = length;
    }
    host_.emit(event, Payload(std::move(step)), node, reason);
}

} // namespace pcj::detail
