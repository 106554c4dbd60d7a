// HostLink: the ProtocolHost a protocol module talks to, one per connection. It forwards to the
// owners while its connection is current; once the connection is replaced or closed, the
// Lifecycle deactivates it and every call becomes a no-op.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "emitter.hpp"
#include "protocol.hpp"

namespace pcj::detail {

class EventRecords;
class Lifecycle;
class Outbox;
class RequestTracker;
class SessionKeeper;
class StreamManagement;
class StreamStack;

// The owners a connection's life cycle drives (and its HostLink forwards to).
struct ConnectionParts {
    StreamStack& stack;
    EventRecords& records;
    RequestTracker& tracker;
    Outbox& outbox;
    SessionKeeper& session;
    StreamManagement& sm; // XEP-0198 state across connections
};

class HostLink final : public ProtocolHost {
public:
    HostLink(Lifecycle& lifecycle, ConnectionParts parts, Emitter& emitter, const Config& config)
        : lifecycle_(lifecycle), parts_(parts), emitter_(emitter), config_(config) {}

    const Config& config() const override { return config_; }
    void send_stream_header() override;
    void send(const Node& node) override;
    std::string request(Node node, Handler on_reply) override;
    void emit(std::string_view event, const Reason* reason = nullptr,
              const Node* node = nullptr) override;
    void emit(std::string_view event, const Payload& payload, const Node* node = nullptr,
              const Reason* reason = nullptr) override;
    bool wanted(std::string_view event) const override;
    void set_jid(std::string jid) override;
    void start_tls() override;
    bool encrypted() const override;
    std::pair<std::string, std::string> channel_binding() const override;
    void ready() override;
    void fail(std::string_view event, Reason reason) override;
    void log(LogLevel level, std::string_view line) override;
    // On libuv's threadpool (uv_queue_work); in place when the pool cannot take the job.
    void run_off_loop(std::function<void()> work, std::function<void()> done) override;
    bool current() const override { return active_; }
    StreamManagementHost* stream_management() override;
    void deactivate() { active_ = false; }

private:
    Lifecycle& lifecycle_;
    ConnectionParts parts_;
    Emitter& emitter_;
    const Config& config_;
    bool active_ = true;
};

} // namespace pcj::detail
