// ScriptedPeer: a loopback TCP server that follows a wire script, for protocol tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

namespace pcj::test {

// Listens on 127.0.0.1 on a free port, on the test's loop, and runs one script against each
// accepted connection (the same script again for each new connection, so reconnects can be
// tested). Steps run in order:
//   expect(s)     wait until the bytes received since the previous expect contain s
//   send(s)       write s; "$ID" in s becomes the id attribute of the last element matched
//   close()       close the connection (FIN)
//   reset()       close it with RST
//   wait_close()  wait until the client closes
//   pause(ms)     wait
// A script that cannot go on (an expect unmet when the client closes) marks the peer failed;
// error() says which step.
class ScriptedPeer {
public:
    explicit ScriptedPeer(uv_loop_t* loop);
    ~ScriptedPeer();
    ScriptedPeer(const ScriptedPeer&) = delete;
    ScriptedPeer& operator=(const ScriptedPeer&) = delete;

    std::uint16_t port() const;

    ScriptedPeer& expect(std::string text);
    ScriptedPeer& send(std::string text);
    ScriptedPeer& close();
    ScriptedPeer& reset();
    ScriptedPeer& wait_close();
    ScriptedPeer& pause(std::chrono::milliseconds duration);

    // Everything each connection received, in order of connection.
    const std::vector<std::string>& received() const;
    std::string all_received() const;
    std::size_t connections() const;
    // The script has run to its end on the latest connection.
    bool done() const;
    bool failed() const;
    const std::string& error() const;
    // Whether the latest connection was closed by the client.
    bool client_closed() const;
    // Stops listening and closes every connection (also done by the destructor).
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace pcj::test
