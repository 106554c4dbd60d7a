// Runner: one connection for one command — the deadline, SIGINT/SIGTERM, --debug's wire log,
// and the exit code that says why a connection failed.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <pcj/pcj.hpp>

#include "options.hpp"

namespace pcjtool {

// An element as pcj prints it, with credentials (SASL data, XEP-0114 handshake, iq:auth
// password or digest) replaced by "…".
std::string masked(const pcj::Node& node);

class Runner {
public:
    struct Options {
        std::chrono::milliseconds timeout{30'000};
        bool debug = false;
        bool deadline_until_ready_only = false; // watch: the timeout covers connecting only
    };

    Runner(pcj::Config config, Options options);
    ~Runner();
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;

    pcj::Component& component() { return *component_; }

    // Connects, calls `on_ready` at PCJ_READY, and runs until the connection has ended. Returns
    // the result given to finish(), or else the exit code of the failure that ended it.
    int run(std::function<void()> on_ready);

    // The command is done: remember its exit code and close the stream cleanly.
    void finish(int code);
    // A signal arrived (SIGINT or SIGTERM).
    bool interrupted() const { return interrupted_; }
    // What a command with nothing else to say should exit with after an interruption.
    void on_interrupt(std::function<void()> handler) { on_interrupt_ = std::move(handler); }

private:
    struct Handles;
    std::unique_ptr<pcj::Component> component_;
    Options options_;
    std::unique_ptr<Handles> handles_;
    std::vector<pcj::Subscription> subscriptions_;
    std::optional<int> result_;
    bool ready_ = false;
    bool timed_out_ = false;
    bool interrupted_ = false;
    std::function<void()> on_interrupt_;
    // The first reason of each kind of failure seen.
    std::optional<pcj::Reason> tls_, auth_, stream_, network_;
    bool saw_timeout_reason_ = false;
    bool said_why_ = false;

    void watch_failures();
    void on_deadline();
    void on_signal();
    int failure_code() const;
};

} // namespace pcjtool
