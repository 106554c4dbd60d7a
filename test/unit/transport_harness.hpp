// The transport tests' harness: a recorder of every transport callback and a loopback socket
// to play the peer.
#pragma once

#include "transport.hpp"

#include <cerrno>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "loop_fixture.hpp"
#include "scripted_peer.hpp"

namespace transport_test {

using namespace std::chrono_literals;
using pcj::Reason;
using pcj::detail::Transport;
using pcj::test::LoopFixture;
using pcj::test::ScriptedPeer;

constexpr auto deadline = 10s;

// Records every transport callback; hooks let a test act from inside one.
struct Recorder {
    struct Attempt {
        std::string address;
        int family;
        std::uint16_t port;
    };
    std::vector<std::string> events; // callback names, in order
    std::string resolving;
    std::vector<std::string> resolved;
    std::vector<Attempt> connecting;
    int connected = 0;
    std::string data;
    int data_calls = 0;
    std::vector<Reason> failures;
    std::vector<std::size_t> sent; // on_sent, kept out of `events` (its timing is the kernel's)
    int drains_after_sent = 0;     // on_drain with an on_sent before it
    int drains = 0;
    int closed = 0;
    std::function<void()> when_connected;
    std::function<void(std::string_view)> when_data;
    std::function<void()> when_drained;

    Transport::Callbacks callbacks() {
        Transport::Callbacks cb;
        cb.on_resolving = [this](const std::string& host) {
            events.push_back("resolving");
            resolving = host;
        };
        cb.on_resolved = [this](const std::vector<std::string>& addresses) {
            events.push_back("resolved");
            resolved = addresses;
        };
        cb.on_connecting = [this](const std::string& address, int family, std::uint16_t port) {
            events.push_back("connecting");
            connecting.push_back({address, family, port});
        };
        cb.on_connected = [this] {
            events.push_back("connected");
            ++connected;
            if (when_connected) {
                when_connected();
            }
        };
        cb.on_data = [this](std::string_view bytes) {
            events.push_back("data");
            ++data_calls;
            data.append(bytes);
            if (when_data) {
                when_data(bytes);
            }
        };
        cb.on_failure = [this](const Reason& reason) {
            events.push_back("failure");
            failures.push_back(reason);
        };
        cb.on_sent = [this](std::size_t bytes) {
            sent.push_back(bytes);
        };
        cb.on_drain = [this] {
            events.push_back("drain");
            drains_after_sent += sent.empty() ? 0 : 1;
            ++drains;
            if (when_drained) {
                when_drained();
            }
        };
        cb.on_closed = [this] {
            events.push_back("closed");
            ++closed;
        };
        return cb;
    }
};

inline sockaddr_storage loopback(int family, std::uint16_t port) {
    sockaddr_storage ss{};
    if (family == AF_INET6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        a->sin6_port = htons(port);
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a->sin_port = htons(port);
    }
    return ss;
}

inline socklen_t address_length(int family) {
    return family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

// A plain socket bound to a loopback address (outside the loop, so it needs no uv handle). Not
// listening, it refuses connections; listening with a full queue, it leaves them unanswered.
class LoopbackSocket {
public:
    LoopbackSocket(int family, std::uint16_t port) : family_(family) {
        fd_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_storage ss = loopback(family, port);
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&ss), address_length(family)) != 0) {
            return;
        }
        socklen_t len = sizeof ss;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
        port_ = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                         : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    }
    ~LoopbackSocket() {
        for (const int fd : fillers_) {
            ::close(fd);
        }
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    LoopbackSocket(const LoopbackSocket&) = delete;
    LoopbackSocket& operator=(const LoopbackSocket&) = delete;

    bool bound() const { return port_ != 0; }
    std::uint16_t port() const { return port_; }

    // Listens with the smallest queue and connects to itself until a handshake gets no answer
    // (the kernel drops a SYN while the accept queue is full). Then any further connect hangs.
    bool listen_and_fill() {
        if (::listen(fd_, 0) != 0) {
            return false;
        }
        for (int i = 0; i < 32; ++i) {
            const int fd = ::socket(family_, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                return false;
            }
            fillers_.push_back(fd);
            const sockaddr_storage ss = loopback(family_, port_);
            if (::connect(fd, reinterpret_cast<const sockaddr*>(&ss), address_length(family_)) ==
                0) {
                continue;
            }
            if (errno != EINPROGRESS) {
                return false;
            }
            pollfd p{fd, POLLOUT, 0};
            if (::poll(&p, 1, 200) == 0) {
                return true; // this handshake is unanswered: the queue is full
            }
        }
        return false;
    }

private:
    int family_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::vector<int> fillers_;
};

inline std::string patterned_bytes(std::size_t size) {
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i) {
        bytes[i] = static_cast<char>((i * 7 + i / 251) % 256); // not periodic at any short length
    }
    return bytes;
}

} // namespace transport_test
