// FakeHost: a ProtocolHost in memory, so a connection type's state machine can be fed a hostile
// server's bytes without sockets, timers or a loop — thousands of inputs per second.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "protocol.hpp"
#include "xml_stream.hpp"

namespace pcj::fuzz {

// The configuration a target uses for one connection type: TLS optional (STARTTLS is taken
// when offered and "succeeds" at once), plaintext passwords allowed, and a tiny SCRAM iteration
// cap so that SCRAM paths stay cheap.
Config fuzz_config(ConnectionType type);

// Runs one connection: the protocol is made, connected, and fed `wire` (the server's side,
// split into reads as `splits` says). Everything the client sends is appended to sent().
class FakeHost final : public detail::ProtocolHost {
public:
    explicit FakeHost(Config config);
    ~FakeHost();

    // Feeds the whole input; returns when it is consumed or the connection has ended.
    void run(std::string_view wire, std::string_view splits);

    const Config& config() const override { return config_; }
    void send_stream_header() override;
    void send(const Node& node) override;
    std::string request(Node node, Handler on_reply) override;
    void emit(std::string_view event, const Reason* reason, const Node* node) override;
    void emit(std::string_view event, const Payload& payload, const Node* node,
              const Reason* reason) override;
    bool wanted(std::string_view) const override { return true; }
    void set_jid(std::string jid) override { jid_ = std::move(jid); }
    void start_tls() override;
    bool encrypted() const override { return encrypted_; }
    std::pair<std::string, std::string> channel_binding() const override;
    void ready() override;
    void fail(std::string_view event, Reason reason) override;
    void log(LogLevel, std::string_view) override {}
    bool current() const override { return !ended_; }

    const std::string& sent() const { return sent_; }
    bool is_ready() const { return ready_; }
    bool ended() const { return ended_; }

private:
    void on_stanza(const Node& node);

    Config config_;
    std::unique_ptr<detail::Protocol> protocol_;
    std::unique_ptr<detail::XmlStream> xml_;
    std::map<std::string, Handler, std::less<>> requests_;
    std::uint32_t next_id_ = 0;
    std::string sent_;
    std::string jid_;
    bool encrypted_ = false;
    bool ready_ = false;
    bool ended_ = false;
    bool negotiating_ = true;
    bool tls_pending_ = false; // start_tls() was called: "established" after this read
};

} // namespace pcj::fuzz
