// Tests for the TCP transport and for the fixtures it is tested with (loop fixture, scripted
// peer). Everything is on loopback; every wait has a deadline.
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

using namespace std::chrono_literals;
using pcj::Reason;
using pcj::detail::Transport;
using pcj::test::LoopFixture;
using pcj::test::ScriptedPeer;

namespace {

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

sockaddr_storage loopback(int family, std::uint16_t port) {
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

socklen_t address_length(int family) {
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

std::string patterned_bytes(std::size_t size) {
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i) {
        bytes[i] = static_cast<char>((i * 7 + i / 251) % 256); // not periodic at any short length
    }
    return bytes;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Connecting

TEST_CASE("transport: connects to a peer and exchanges bytes both ways", "[transport][connect]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.expect("hello").send("world").expect("bye");
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    t.write("ignored: not connected yet");
    CHECK(t.buffered() == 0);
    rec.when_connected = [&] {
        t.write("hello");
    };
    rec.when_data = [&](std::string_view) {
        if (rec.data == "world") {
            t.write("bye");
        }
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return peer.done() && t.buffered() == 0; }, deadline));

    CHECK(rec.resolving == "127.0.0.1");
    CHECK(rec.resolved == std::vector<std::string>{"127.0.0.1"});
    REQUIRE(rec.connecting.size() == 1);
    CHECK(rec.connecting[0].address == "127.0.0.1");
    CHECK(rec.connecting[0].family == 4);
    CHECK(rec.connecting[0].port == peer.port());
    CHECK(rec.data == "world");
    CHECK(peer.all_received() == "hellobye");
    CHECK(t.connected());
    CHECK(t.bytes_read() == 5);
    CHECK(t.bytes_written() == 8);
    CHECK(rec.failures.empty());
    CHECK(rec.events.at(0) == "resolving");
    CHECK(rec.events.at(1) == "resolved");
    CHECK(rec.events.at(2) == "connecting");
    CHECK(rec.events.at(3) == "connected");
}

TEST_CASE("transport: a refused connection ends in on_failure op connect with ECONNREFUSED",
          "[transport][connect]") {
    LoopFixture fx;
    const LoopbackSocket closed_port(AF_INET, 0); // bound, not listening: connections are refused
    REQUIRE(closed_port.bound());
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());

    t.connect("127.0.0.1", closed_port.port(), 2s);
    REQUIRE(fx.run_until([&] { return !rec.failures.empty(); }, deadline));

    CHECK(rec.connecting.size() == 1);
    REQUIRE(rec.failures.size() == 1);
    CHECK(rec.failures[0].op == "connect");
    CHECK(rec.failures[0].code == ECONNREFUSED);
    CHECK(rec.failures[0].text == "connection refused");
    CHECK(rec.connected == 0);
    CHECK_FALSE(t.connected());
}

// No name here resolves to both ::1 and 127.0.0.1 (/etc/hosts has only 127.0.0.1 localhost), so
// the two-address case uses the empty host: this machine's loopback addresses, ::1 then 127.0.0.1.
TEST_CASE("transport: when the first address refuses, the next one is tried and connects",
          "[transport][connect]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());                         // 127.0.0.1:port
    const LoopbackSocket refusing(AF_INET6, peer.port()); // ::1:port, bound but not listening
    REQUIRE(refusing.bound());
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());

    t.connect("", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return rec.connected == 1 || !rec.failures.empty(); }, deadline));

    CHECK(rec.resolved == std::vector<std::string>{"::1", "127.0.0.1"});
    REQUIRE(rec.connecting.size() == 2);
    CHECK(rec.connecting[0].address == "::1");
    CHECK(rec.connecting[0].family == 6);
    CHECK(rec.connecting[1].address == "127.0.0.1");
    CHECK(rec.connecting[1].family == 4);
    CHECK(rec.connected == 1);
    CHECK(rec.failures.empty());
    REQUIRE(fx.run_until([&] { return peer.connections() == 1; }, deadline));
}

TEST_CASE("transport: a connect that gets no answer fails with ETIMEDOUT after the timeout",
          "[transport][connect][timeout]") {
    LoopFixture fx;
    LoopbackSocket silent(AF_INET, 0);
    REQUIRE(silent.bound());
    REQUIRE(silent.listen_and_fill());
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());

    const auto start = std::chrono::steady_clock::now();
    t.connect("127.0.0.1", silent.port(), 200ms);
    REQUIRE(fx.run_until([&] { return !rec.failures.empty(); }, deadline));
    const auto elapsed = std::chrono::steady_clock::now() - start;

    CHECK(rec.connecting.size() == 1);
    REQUIRE(rec.failures.size() == 1);
    CHECK(rec.failures[0].op == "connect");
    CHECK(rec.failures[0].code == ETIMEDOUT);
    CHECK(elapsed >= 195ms);
    CHECK(rec.connected == 0);
}

TEST_CASE("transport: an address that times out is left for the next one",
          "[transport][connect][timeout]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    LoopbackSocket silent(AF_INET6, peer.port());
    REQUIRE(silent.bound());
    REQUIRE(silent.listen_and_fill());
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());

    t.connect("", peer.port(), 200ms);
    REQUIRE(fx.run_until([&] { return rec.connected == 1 || !rec.failures.empty(); }, deadline));

    REQUIRE(rec.connecting.size() == 2);
    CHECK(rec.connecting[0].address == "::1");
    CHECK(rec.connecting[1].address == "127.0.0.1");
    CHECK(rec.connected == 1);
    CHECK(rec.failures.empty());
}

// "nonexistent.invalid" would send a DNS query off this machine; a name with spaces is refused
// by the resolver library itself, so the failure stays local.
TEST_CASE("transport: a name that does not resolve ends in on_failure op resolve",
          "[transport][connect]") {
    LoopFixture fx;
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());

    t.connect("no such host.invalid", 5222, 2s);
    REQUIRE(fx.run_until([&] { return !rec.failures.empty(); }, deadline));

    CHECK(rec.resolving == "no such host.invalid");
    CHECK(rec.resolved.empty());
    CHECK(rec.connecting.empty());
    REQUIRE(rec.failures.size() == 1);
    CHECK(rec.failures[0].op == "resolve");
    CHECK(rec.failures[0].code != 0);
    CHECK_FALSE(rec.failures[0].text.empty());
}

TEST_CASE("transport: a second connect drops the first connection without a callback",
          "[transport][connect]") {
    LoopFixture fx;
    ScriptedPeer first(fx.loop());
    first.wait_close();
    ScriptedPeer second(fx.loop());
    second.send("second");
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());

    t.connect("127.0.0.1", first.port(), 2s);
    REQUIRE(fx.run_until([&] { return rec.connected == 1; }, deadline));
    t.connect("127.0.0.1", second.port(), 2s);
    REQUIRE(fx.run_until([&] { return first.done() && rec.data == "second"; }, deadline));

    CHECK(first.client_closed());
    CHECK(rec.connected == 2);
    CHECK(rec.failures.empty());
    CHECK(rec.closed == 0);
}

// ---------------------------------------------------------------------------------------------
// Reading

TEST_CASE("transport: end of file from the peer is on_failure op read with code 0",
          "[transport][read]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.send("last words").close();
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return !rec.failures.empty(); }, deadline));

    CHECK(rec.data == "last words");
    REQUIRE(rec.failures.size() == 1);
    CHECK(rec.failures[0].op == "read");
    CHECK(rec.failures[0].code == 0);
    CHECK(rec.failures[0].text == "end of file");
    CHECK_FALSE(t.connected());
    REQUIRE(fx.run_until([&] { return peer.client_closed(); }, deadline));
}

TEST_CASE("transport: a reset from the peer is on_failure op read with ECONNRESET",
          "[transport][read]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.expect("ping").reset();
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    rec.when_connected = [&] {
        t.write("ping");
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return !rec.failures.empty(); }, deadline));

    REQUIRE(rec.failures.size() == 1);
    CHECK(rec.failures[0].op == "read");
    CHECK(rec.failures[0].code == ECONNRESET);
}

TEST_CASE("transport: abort() inside on_data stops every further callback", "[transport][abort]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.send("first").pause(100ms).send("second");
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    rec.when_data = [&](std::string_view) {
        t.write(patterned_bytes(8 * 1024 * 1024)); // still in flight when abort() comes
        t.abort();
        t.write("ignored: aborted");
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return peer.client_closed(); }, deadline));
    const std::size_t events = rec.events.size();
    fx.run_for(250ms);

    CHECK(rec.data == "first");
    CHECK(rec.data_calls == 1);
    CHECK(rec.events.size() == events);
    for (const Reason& r : rec.failures) {
        FAIL_CHECK("unexpected failure: " << r.op << " " << r.code << " " << r.text);
    }
    CHECK(rec.closed == 0);
    CHECK_FALSE(t.connected());
    CHECK(t.buffered() == 0);
    CHECK(peer.done());
}

TEST_CASE("transport: an exception thrown by on_data becomes on_failure, not a crash",
          "[transport][read]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.send("x").wait_close();
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    rec.when_data = [](std::string_view) {
        throw std::runtime_error("boom");
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return !rec.failures.empty() && peer.done(); }, deadline));

    REQUIRE(rec.failures.size() == 1);
    CHECK(rec.failures[0].op == "read");
    CHECK(rec.failures[0].code == EIO);
    CHECK_THAT(rec.failures[0].text, Catch::Contains("boom"));
    CHECK_FALSE(t.connected());
}

// ---------------------------------------------------------------------------------------------
// Writing

TEST_CASE("transport: a large write arrives complete and in order, then on_drain",
          "[transport][write]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    const std::string bytes = patterned_bytes(8 * 1024 * 1024);
    std::size_t buffered_after_write = 0;
    std::size_t buffered_at_drain = 1;
    rec.when_connected = [&] {
        t.write(bytes);
        buffered_after_write = t.buffered();
    };
    rec.when_drained = [&] {
        buffered_at_drain = t.buffered();
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until(
        [&] { return rec.drains > 0 && peer.all_received().size() >= bytes.size(); }, deadline));

    CHECK(buffered_after_write == bytes.size());
    CHECK(buffered_at_drain == 0);
    CHECK(rec.drains == 1);
    CHECK(t.bytes_written() == bytes.size());
    CHECK(peer.all_received() == bytes);
    CHECK(rec.failures.empty());
}

TEST_CASE("transport: on_sent reports every completed write before on_drain, and the counters "
          "agree",
          "[transport][write]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    const std::string big = patterned_bytes(4 * 1024 * 1024);
    std::uint64_t queued_after_writes = 0;
    rec.when_connected = [&] {
        t.write(big);
        t.write("tail one");
        t.write("tail two");
        queued_after_writes = t.bytes_queued();
    };
    t.connect("127.0.0.1", peer.port(), 2s);
    const std::size_t expected = big.size() + 16;
    REQUIRE(fx.run_until([&] { return rec.drains > 0; }, deadline));
    CHECK(queued_after_writes == expected);
    std::uint64_t sum = 0;
    for (const std::size_t n : rec.sent) {
        sum += n;
    }
    CHECK(sum == expected);
    CHECK(t.bytes_written() == expected);
    CHECK(t.bytes_queued() == expected);
    CHECK(rec.sent.size() >= 2); // the big write, then the coalesced tails
    CHECK(rec.drains_after_sent == rec.drains);
}

TEST_CASE("transport: many small writes are coalesced and arrive in order", "[transport][write]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    constexpr int count = 200000;
    std::string expected;
    std::chrono::steady_clock::duration spent{};
    rec.when_connected = [&] {
        std::vector<std::string> lines;
        lines.reserve(count);
        for (int i = 0; i < count; ++i) {
            lines.push_back("<m n='" + std::to_string(i) + "'/>");
            expected += lines.back();
        }
        const auto start = std::chrono::steady_clock::now();
        for (std::string& line : lines) {
            t.write(std::move(line));
        }
        spent = std::chrono::steady_clock::now() - start;
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until(
        [&] { return rec.drains > 0 && peer.all_received().size() >= expected.size(); }, deadline));

    CHECK(peer.all_received() == expected);
    CHECK(t.buffered() == 0);
    CHECK(t.bytes_written() == expected.size());
    // Coalesced: the first write goes out at once, the rest in one batch, so one drain.
    CHECK(rec.drains == 1);
    // A generous bound (sanitizers, a busy machine): 200,000 writes must stay cheap.
    CHECK(spent < 2s);
}

// ---------------------------------------------------------------------------------------------
// Closing

TEST_CASE("transport: close() flushes what is buffered and calls on_closed once",
          "[transport][close]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.wait_close();
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    const std::string bytes = patterned_bytes(4 * 1024 * 1024);
    rec.when_connected = [&] {
        t.write(bytes);
        t.close();
        t.write("ignored: closing");
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return rec.closed > 0 && peer.done(); }, deadline));
    fx.run_for(50ms);

    CHECK(rec.closed == 1);
    CHECK(peer.all_received() == bytes);
    CHECK(rec.failures.empty());
    CHECK(rec.drains == 0);
    CHECK_FALSE(t.connected());
    CHECK(t.buffered() == 0);
}

TEST_CASE("transport: close() from inside on_data closes gracefully", "[transport][close]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.send("</stream:stream>").wait_close();
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    rec.when_data = [&](std::string_view) {
        t.write("</stream:stream>");
        t.close();
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return rec.closed > 0 && peer.done(); }, deadline));

    CHECK(rec.closed == 1);
    CHECK(peer.all_received() == "</stream:stream>");
    CHECK(rec.failures.empty());
}

TEST_CASE("transport: close() while resolving calls on_closed once and nothing else",
          "[transport][close]") {
    LoopFixture fx;
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());

    t.connect("localhost", 5222, 2s);
    t.close();
    CHECK(rec.closed == 0); // never from inside the call
    REQUIRE(fx.run_until([&] { return rec.closed > 0; }, deadline));
    fx.run_for(100ms);

    CHECK(rec.closed == 1);
    CHECK(rec.events == std::vector<std::string>{"resolving", "closed"});
}

TEST_CASE("transport: destroying it with a connection under way gives no callback and no leak",
          "[transport][lifetime]") {
    LoopFixture fx;
    Recorder rec;
    auto t = std::make_unique<Transport>(fx.loop(), rec.callbacks());

    SECTION("while resolving") {
        t->connect("localhost", 5222, 2s);
        t.reset();
    }
    SECTION("while the TCP handshake is unanswered") {
        LoopbackSocket silent(AF_INET, 0);
        REQUIRE(silent.bound());
        REQUIRE(silent.listen_and_fill());
        t->connect("127.0.0.1", silent.port(), 0ms);
        REQUIRE(fx.run_until([&] { return !rec.connecting.empty(); }, deadline));
        fx.run_for(50ms);
        t.reset();
    }
    SECTION("while a large write is in flight") {
        ScriptedPeer peer(fx.loop());
        t->connect("127.0.0.1", peer.port(), 2s);
        REQUIRE(fx.run_until([&] { return rec.connected == 1; }, deadline));
        t->write(patterned_bytes(8 * 1024 * 1024));
        t.reset();
    }
    const std::size_t events = rec.events.size();
    fx.run_for(100ms);

    CHECK(rec.events.size() == events);
    CHECK(rec.failures.empty());
    // LoopFixture's destructor checks that every handle closed and uv_loop_close succeeds.
}

// ---------------------------------------------------------------------------------------------
// The fixtures themselves: a fixture that cannot fail would let broken tests pass.

TEST_CASE("scripted peer: an expect unmet when the client closes marks it failed, naming the "
          "step",
          "[transport][scripted_peer]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.send("hi").expect("hello");
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    rec.when_connected = [&] {
        t.write("help");
        t.close();
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return peer.failed(); }, deadline));

    CHECK_FALSE(peer.done());
    CHECK_THAT(peer.error(), Catch::Contains("step 2") && Catch::Contains("\"hello\"") &&
                                 Catch::Contains("\"help\""));
    REQUIRE(fx.run_until([&] { return rec.closed == 1; }, deadline));
}

TEST_CASE("scripted peer: repeated expects consume the input in order",
          "[transport][scripted_peer]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.expect("ab").expect("ab").send("ok");
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    rec.when_connected = [&] {
        t.write("ab");
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return peer.all_received() == "ab"; }, deadline));
    CHECK_FALSE(peer.done());
    t.write("xa");
    REQUIRE(fx.run_until([&] { return peer.all_received() == "abxa"; }, deadline));
    CHECK_FALSE(peer.done());
    t.write("b");
    REQUIRE(fx.run_until([&] { return rec.data == "ok"; }, deadline));
    CHECK(peer.done());
    CHECK_FALSE(peer.failed());
}

TEST_CASE("scripted peer: each connection runs the script from the beginning",
          "[transport][scripted_peer]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    peer.expect("again?").send("yes");
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());
    rec.when_connected = [&] {
        t.write("again?");
    };

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return rec.data == "yes"; }, deadline));
    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return rec.data == "yesyes"; }, deadline));

    CHECK(peer.connections() == 2);
    CHECK(peer.received() == std::vector<std::string>{"again?", "again?"});
    CHECK(peer.done());
}

TEST_CASE("scripted peer: stop() closes the open connections", "[transport][scripted_peer]") {
    LoopFixture fx;
    ScriptedPeer peer(fx.loop());
    Recorder rec;
    Transport t(fx.loop(), rec.callbacks());

    t.connect("127.0.0.1", peer.port(), 2s);
    REQUIRE(fx.run_until([&] { return rec.connected == 1 && peer.connections() == 1; }, deadline));
    peer.stop();
    REQUIRE(fx.run_until([&] { return !rec.failures.empty(); }, deadline));

    CHECK(rec.failures[0].op == "read");
}

TEST_CASE("loop fixture: run_until gives up at its deadline and run_for waits",
          "[transport][loop_fixture]") {
    LoopFixture fx;
    CHECK(fx.run_until([] { return true; }, 0ms));

    auto start = std::chrono::steady_clock::now();
    const bool held = fx.run_until([] { return false; }, 50ms);
    CHECK_FALSE(held);
    CHECK(std::chrono::steady_clock::now() - start >= 49ms);

    start = std::chrono::steady_clock::now();
    fx.run_for(50ms);
    CHECK(std::chrono::steady_clock::now() - start >= 49ms);
}
