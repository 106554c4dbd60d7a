// Runner: the connection's deadline, signals, wire log and failure classification.
#include "runner.hpp"

#include <csignal>
#include <cstdio>

#include <uv.h>

namespace pcjtool {

namespace {

bool holds_secret(const pcj::Node& node) {
    const auto name = node.local_name();
    if (node.ns() == "urn:ietf:params:xml:ns:xmpp-sasl") {
        return name == "auth" || name == "response";
    }
    // XEP-0114's handshake is a digest of the secret; jabber:iq:auth's password and digest.
    return name == "handshake" || name == "password" || name == "digest";
}

void mask_in_place(pcj::Node& node) {
    if (holds_secret(node) && !node.children().empty()) {
        node.set_text("…");
        return;
    }
    for (pcj::Node& child : node.children()) {
        if (!child.is_text()) {
            mask_in_place(child);
        }
    }
}

bool lost_rather_than_refused(const pcj::Reason& r) {
    return r.condition == "connection-lost" || r.condition == "stream-closed" ||
           r.condition == "disconnected";
}

// A stage's failure that only repeats the server's stream error (host-unknown, …) counts as
// the stream error; a not-authorized one is how XEP-0114 refuses a secret: authentication.
bool repeats_stream_error(const pcj::Reason& r) {
    return r.op == "stream" && r.condition != "not-authorized";
}

} // namespace

std::string masked(const pcj::Node& node) {
    pcj::Node copy = node;
    mask_in_place(copy);
    return copy.to_string();
}

// libuv handles on the component's loop, each freed by its close callback.
struct Runner::Handles {
    uv_timer_t* deadline = nullptr;
    uv_signal_t* sigint = nullptr;
    uv_signal_t* sigterm = nullptr;
};

template <typename H> static void close_and_free(H*& handle) {
    if (handle == nullptr) {
        return;
    }
    handle->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle),
             [](uv_handle_t* h) { delete reinterpret_cast<H*>(h); });
    handle = nullptr;
}

Runner::Runner(pcj::Config config, Options options)
    : component_(std::make_unique<pcj::Component>(std::move(config))), options_(options),
      handles_(std::make_unique<Handles>()) {
    watch_failures();
    if (options_.debug) {
        auto& c = *component_;
        auto line = [](const char* dir, const pcj::Event& e) {
            if (e.node != nullptr) {
                std::fprintf(stderr, "%s %s\n", dir, masked(*e.node).c_str());
            }
        };
        subscriptions_.push_back(
            c.subscribe(pcj::xs::START_STREAM, [line](const pcj::Event& e) { line("SEND", e); }));
        subscriptions_.push_back(
            c.subscribe(pcj::ev::NODESENT, [line](const pcj::Event& e) { line("SEND", e); }));
        subscriptions_.push_back(
            c.subscribe(pcj::xs::OPEN, [line](const pcj::Event& e) { line("RECV", e); }));
        subscriptions_.push_back(
            c.subscribe(pcj::xs::NODE, [line](const pcj::Event& e) { line("RECV", e); }));
    }
}

Runner::~Runner() {
    // The handles are closed in run(); the component (and its loop) goes last.
    subscriptions_.clear();
}

void Runner::watch_failures() {
    auto& c = *component_;
    auto keep = [this](std::optional<pcj::Reason>& slot, const pcj::Event& e) {
        if (e.reason == nullptr) {
            return;
        }
        if (e.reason->condition == "timeout") {
            saw_timeout_reason_ = true;
        }
        if (!slot) {
            slot = *e.reason;
        }
    };
    subscriptions_.push_back(c.subscribe(pcj::ev::SSLFAIL, [this, keep](const pcj::Event& e) {
        if (e.reason != nullptr && !repeats_stream_error(*e.reason)) {
            keep(tls_, e);
        }
    }));
    for (auto name : {pcj::ev::AUTHFAIL, pcj::ev::BINDFAIL, pcj::ev::SESSIONFAIL}) {
        subscriptions_.push_back(c.subscribe(name, [this, keep](const pcj::Event& e) {
            if (e.reason != nullptr && !lost_rather_than_refused(*e.reason) &&
                !repeats_stream_error(*e.reason)) {
                keep(auth_, e);
            } else if (e.reason != nullptr && e.reason->condition == "timeout") {
                saw_timeout_reason_ = true;
            }
        }));
    }
    subscriptions_.push_back(
        c.subscribe(pcj::xs::ERROR, [this, keep](const pcj::Event& e) { keep(stream_, e); }));
    for (auto name : {pcj::ev::CONNECTFAIL, pcj::ev::SOCKETFAIL}) {
        subscriptions_.push_back(
            c.subscribe(name, [this, keep](const pcj::Event& e) { keep(network_, e); }));
    }
    // Say why, once, on stderr: the first failure event with a reason.
    subscriptions_.push_back(c.subscribe_all([this](const pcj::Event& e) {
        if (e.reason != nullptr && !said_why_ && !result_ &&
            (e.name == pcj::ev::CONNECTFAIL || e.name == pcj::ev::SSLFAIL ||
             e.name == pcj::ev::AUTHFAIL || e.name == pcj::ev::BINDFAIL ||
             e.name == pcj::ev::SESSIONFAIL || e.name == pcj::ev::SOCKETFAIL ||
             e.name == pcj::xs::ERROR)) {
            said_why_ = true;
            std::fprintf(stderr, "pcj: %s: %s\n", std::string(e.name).c_str(),
                         e.reason->to_string().c_str());
        }
    }));
    subscriptions_.push_back(c.subscribe(pcj::ev::READY, [this](const pcj::Event&) {
        ready_ = true;
        if (options_.deadline_until_ready_only && handles_->deadline != nullptr) {
            uv_timer_stop(handles_->deadline);
        }
    }));
}

int Runner::failure_code() const {
    if (timed_out_ || saw_timeout_reason_) {
        return Exit::timeout;
    }
    if (tls_) {
        return Exit::tls;
    }
    if (auth_) {
        return Exit::auth;
    }
    if (stream_) {
        return Exit::stream;
    }
    return Exit::network; // refused, unreachable, lost, or closed by the server
}

void Runner::finish(int code) {
    if (!result_) {
        result_ = code;
    }
    component_->shutdown();
}

void Runner::on_deadline() {
    timed_out_ = true;
    std::fprintf(stderr, "pcj: timed out after %.1f s\n",
                 static_cast<double>(options_.timeout.count()) / 1000.0);
    if (ready_) {
        component_->shutdown();
    } else {
        component_->stop(); // still connecting or negotiating: nothing to close cleanly
    }
}

void Runner::on_signal() {
    interrupted_ = true;
    if (on_interrupt_) {
        on_interrupt_();
    }
    if (ready_) {
        component_->shutdown();
    } else {
        component_->stop();
    }
}

int Runner::run(std::function<void()> on_ready) {
    auto& c = *component_;
    uv_loop_t* loop = c.loop();
    auto subscription = c.subscribe(pcj::ev::READY, [&](const pcj::Event&) {
        c.purge_queue();
        on_ready();
    });

    // Unreferenced: neither keeps the loop alive once the connection has ended.
    handles_->deadline = new uv_timer_t;
    uv_timer_init(loop, handles_->deadline);
    handles_->deadline->data = this;
    uv_timer_start(
        handles_->deadline,
        [](uv_timer_t* t) {
            if (t->data != nullptr) {
                static_cast<Runner*>(t->data)->on_deadline();
            }
        },
        static_cast<std::uint64_t>(options_.timeout.count()), 0);
    uv_unref(reinterpret_cast<uv_handle_t*>(handles_->deadline));
    for (auto [slot, signum] :
         {std::pair{&handles_->sigint, SIGINT}, {&handles_->sigterm, SIGTERM}}) {
        *slot = new uv_signal_t;
        uv_signal_init(loop, *slot);
        (*slot)->data = this;
        uv_signal_start(
            *slot,
            [](uv_signal_t* s, int) {
                if (s->data != nullptr) {
                    static_cast<Runner*>(s->data)->on_signal();
                }
            },
            signum);
        uv_unref(reinterpret_cast<uv_handle_t*>(*slot));
    }

    c.connect();
    c.run(); // returns once the connection has ended (or stop())
    close_and_free(handles_->deadline);
    close_and_free(handles_->sigint);
    close_and_free(handles_->sigterm);
    // One more turn lets the closes complete; after stop() the connection may still be
    // pending, which the component's destruction ends without waiting for it.
    uv_run(loop, UV_RUN_NOWAIT);
    return result_ ? *result_ : failure_code();
}

} // namespace pcjtool
