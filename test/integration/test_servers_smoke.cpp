// Smoke tests of the real-server harness: every kind starts, speaks XMPP, dies and comes back.
#include "servers.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using pcj::test::ServerKind;
using pcj::test::TestServer;
using namespace std::chrono_literals;

namespace {

// A blocking TCP connection to 127.0.0.1 (plain POSIX: the harness is tested without pcj).
class Socket {
public:
    explicit Socket(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) {
            error_ = errno;
            return;
        }
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
            error_ = errno;
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~Socket() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    bool ok() const { return fd_ >= 0; }
    int error() const { return error_; }
    const std::string& received() const { return received_; }

    bool send(const std::string& data) {
        std::size_t done = 0;
        while (done < data.size()) {
            const ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            done += static_cast<std::size_t>(n);
        }
        return true;
    }

    // Reads until what was received matches `pattern`; false on timeout or end of stream.
    bool read_until(const std::regex& pattern, std::smatch& match,
                    std::chrono::milliseconds timeout = 5s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!std::regex_search(received_, match, pattern)) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd pfd{fd_, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
                return false;
            }
            char buf[4096];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) {
                return false;
            }
            received_.append(buf, static_cast<std::size_t>(n));
        }
        return true;
    }

private:
    int fd_ = -1;
    int error_ = 0;
    std::string received_;
};

struct Endpoint {
    std::string key; // the env key naming the port
    std::string ns;  // stream namespace
    std::string to;  // stream 'to'
};

const std::regex& header_with_id() {
    static const std::regex re(R"(<stream:stream\b[^>]*\sid=['"]([^'"]+)['"])");
    return re;
}

std::string stream_header(const Endpoint& e) {
    // A component stream has no version; a client stream says 1.0 (jabberd2 and ejabberd send
    // no features otherwise, and the id is what this test looks for anyway).
    const std::string version = e.ns == "jabber:client" ? " version='1.0'" : "";
    return "<?xml version='1.0'?><stream:stream xmlns='" + e.ns +
           "' xmlns:stream='http://etherx.jabber.org/streams' to='" + e.to + "'" + version + ">";
}

// Every port of a kind that should answer a stream header.
std::vector<Endpoint> endpoints_of(const TestServer& server) {
    std::vector<Endpoint> list{
        {"COMPONENT_PORT", "jabber:component:accept", server.get("COMPONENT_DOMAIN")}};
    switch (server.kind()) {
    case ServerKind::jabberd2_router:
        list.push_back(
            {"ROUTER_NOTLS_PORT", "jabber:component:accept", server.get("COMPONENT_DOMAIN")});
        break;
    case ServerKind::ejabberd:
        list.push_back({"C2S_REQUIRED_PORT", "jabber:client", server.get("DOMAIN")});
        list.push_back({"C2S_PORT", "jabber:client", server.get("DOMAIN")});
        break;
    case ServerKind::prosody:
        list.push_back({"C2S_PORT", "jabber:client", server.get("OPEN_DOMAIN")});
        list.push_back({"C2S_PORT", "jabber:client", server.get("DOMAIN")});
        break;
    case ServerKind::jabberd2:
        list.push_back({"C2S_PORT", "jabber:client", server.get("DOMAIN")});
        break;
    case ServerKind::ejabberd_cluster: // the cluster suite checks its nodes itself
        list.push_back(
            {"NODE2_COMPONENT_PORT", "jabber:component:accept", server.get("COMPONENT_DOMAIN")});
        list.push_back({"NODE1_C2S_PORT", "jabber:client", server.get("DOMAIN")});
        list.push_back({"NODE2_C2S_PORT", "jabber:client", server.get("DOMAIN")});
        break;
    }
    return list;
}

// Connects, sends a stream header, and returns the stream id the server answers with ("" if
// it does not answer).
std::string stream_id(const Endpoint& e, Socket& socket) {
    if (!socket.ok() || !socket.send(stream_header(e))) {
        return "";
    }
    std::smatch m;
    return socket.read_until(header_with_id(), m) ? m[1].str() : "";
}

std::string sha1_hex(const std::string& data) {
    unsigned char digest[20];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA1, data.data(), data.size(), digest) != 0) {
        return "";
    }
    std::string hex;
    char two[3];
    for (unsigned char byte : digest) {
        std::snprintf(two, sizeof two, "%02x", byte);
        hex += two;
    }
    return hex;
}

struct RecordedProcess {
    std::string pid;
    std::string start_time;
};

std::vector<RecordedProcess> recorded_processes(const TestServer& server) {
    std::vector<RecordedProcess> list;
    std::ifstream in(server.dir() + "/pids");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        RecordedProcess p;
        if (fields >> p.pid >> p.start_time) {
            list.push_back(p);
        }
    }
    return list;
}

// True while the process still exists (not a zombie) and is the one the harness started.
bool still_running(const RecordedProcess& p) {
    std::ifstream in("/proc/" + p.pid + "/stat");
    std::string stat;
    if (!std::getline(in, stat)) {
        return false;
    }
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::vector<std::string> f;
    for (std::string word; fields >> word;) {
        f.push_back(word);
    }
    // After the command name: state is field 3 of stat, start time field 22.
    return f.size() > 19 && f[0] != "Z" && f[0] != "X" && f[19] == p.start_time;
}

} // namespace

TEST_CASE("servers: every kind answers a stream header with an id, refuses connections after "
          "kill and answers again after restart",
          "[servers][lifecycle]") {
    const auto kind = GENERATE(ServerKind::prosody, ServerKind::ejabberd,
                               ServerKind::jabberd2_router, ServerKind::jabberd2);
    INFO("server kind: " << pcj::test::to_string(kind));
    TestServer server(kind);
    REQUIRE(server.running());
    const auto endpoints = endpoints_of(server);

    for (const auto& e : endpoints) {
        INFO(e.key << " (" << e.ns << ", to " << e.to << ")");
        Socket socket(server.port(e.key));
        CHECK_FALSE(stream_id(e, socket).empty());
    }

    server.kill();
    CHECK_FALSE(server.running());
    for (const auto& e : endpoints) {
        INFO(e.key);
        Socket socket(server.port(e.key));
        CHECK_FALSE(socket.ok());
        CHECK(socket.error() == ECONNREFUSED);
    }

    server.restart();
    CHECK(server.running());
    for (const auto& e : endpoints) {
        INFO(e.key << " (" << e.ns << ", to " << e.to << ")");
        Socket socket(server.port(e.key));
        CHECK_FALSE(stream_id(e, socket).empty());
    }
}

TEST_CASE("servers: a XEP-0114 component's message to its own domain is routed back to it",
          "[servers][component]") {
    const auto kind = GENERATE(ServerKind::prosody, ServerKind::ejabberd,
                               ServerKind::jabberd2_router, ServerKind::jabberd2);
    INFO("server kind: " << pcj::test::to_string(kind));
    TestServer server(kind);
    const std::string domain = server.get("COMPONENT_DOMAIN");
    const Endpoint e{"COMPONENT_PORT", "jabber:component:accept", domain};
    Socket socket(server.port(e.key));
    const std::string id = stream_id(e, socket);
    REQUIRE_FALSE(id.empty());

    REQUIRE(socket.send("<handshake>" + sha1_hex(id + server.get("COMPONENT_SECRET")) +
                        "</handshake>"));
    std::smatch m;
    INFO("received: " << socket.received());
    REQUIRE(socket.read_until(std::regex(R"(<handshake\b[^>]*(/>|></handshake>))"), m));

    REQUIRE(socket.send("<message from='" + domain + "' to='" + domain +
                        "' id='echo1'><body>ping</body></message>"));
    // jabberd2's sm may send the component a disco query first: look past it.
    CHECK(socket.read_until(
        std::regex(R"(<message\b[^>]*\bid=['"]echo1['"][^>]*>\s*<body>ping</body>)"), m));
}

TEST_CASE("servers: destroying a TestServer ends every process it started and removes its "
          "directory",
          "[servers][cleanup]") {
    const auto kind = GENERATE(ServerKind::prosody, ServerKind::ejabberd,
                               ServerKind::jabberd2_router, ServerKind::jabberd2);
    INFO("server kind: " << pcj::test::to_string(kind));
    std::vector<RecordedProcess> processes;
    std::string dir;
    {
        TestServer server(kind);
        processes = recorded_processes(server);
        dir = server.dir();
        const std::size_t expected = kind == ServerKind::jabberd2          ? 3
                                     : kind == ServerKind::jabberd2_router ? 2
                                                                           : 1;
        REQUIRE(processes.size() == expected);
        for (const auto& p : processes) {
            CHECK(still_running(p));
        }
    }
    for (const auto& p : processes) {
        INFO("pid " << p.pid);
        CHECK_FALSE(still_running(p));
    }
    const char* keep = std::getenv("PCJ_KEEP_SERVER_DIRS");
    if (keep == nullptr || std::string(keep) != "1") {
        CHECK_FALSE(std::filesystem::exists(dir));
    }
}

TEST_CASE("servers: a server that cannot start throws with the harness's explanation",
          "[servers][failure]") {
    // No such kind: the script refuses it, and its message must reach the exception.
    const auto bogus = static_cast<ServerKind>(42);
    try {
        TestServer server(bogus);
        FAIL("TestServer started a server of an unknown kind");
    } catch (const std::runtime_error& e) {
        CHECK_THAT(e.what(), Catch::Matchers::Contains("unknown kind"));
    }
}
