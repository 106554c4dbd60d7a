// TestServer: a real XMPP server (Prosody, ejabberd, jabberd2) started on loopback for a test.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace pcj::test {

enum class ServerKind {
    prosody,         // c2s (TLS-optional and TLS-required hosts), direct TLS, component port
    ejabberd,        // c2s (STARTTLS optional and required ports), direct TLS, component port
    jabberd2_router, // router only: XEP-0114 (with <secret>) and the jabberd2 component protocol
    jabberd2,        // router + sm + c2s
    // Two ejabberd nodes joined into one cluster, with a private epmd; the component domain
    // has domain_balancing (test/servers/README.md, "ejabberd-cluster").
    ejabberd_cluster,
};

std::string to_string(ServerKind kind);

// Starts the server through test/servers/pcj-testserver in a fresh temporary directory, waits
// until it accepts connections, and stops it (by the PIDs it started) when destroyed. A server
// that cannot be started throws std::runtime_error with the script's output: tests fail loudly.
//
// What a test needs (ports, domains, secrets, the CA file) is read with get("KEY"); the keys are
// documented in test/servers/README.md.
class TestServer {
public:
    explicit TestServer(ServerKind kind);
    ~TestServer();
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    ServerKind kind() const { return kind_; }
    const std::string& dir() const { return dir_; }
    std::string get(const std::string& key) const; // throws when the key is missing
    std::uint16_t port(const std::string& key) const;

    // Ends the server abruptly (SIGKILL to the PIDs it started), as a crash would.
    void kill();
    // SIGKILL to the one process recorded under `name` (for a cluster: "node2"), waiting until
    // it is gone and its ports are closed.
    void kill_one(const std::string& name);
    // Starts it again with the same configuration, ports and data.
    void restart();
    // Stops it cleanly (SIGTERM, then SIGKILL after a grace period).
    void stop();
    bool running() const;
    // Freezes the server (SIGSTOP to each PID it started that is still the process it started,
    // by its start time): it accepts no more bytes and answers nothing, as a dead peer behind a
    // half-open connection. resume() thaws it (SIGCONT); stop(), kill(), restart() and the
    // destructor thaw a frozen server first. Returns how many processes were signalled.
    int pause();
    int resume();
    bool paused() const { return paused_; }

private:
    ServerKind kind_;
    std::string dir_;
    std::map<std::string, std::string> vars_;
    bool running_ = false;
    bool paused_ = false;
    void load_env();
    int signal_started(int sig) const;
};

} // namespace pcj::test
