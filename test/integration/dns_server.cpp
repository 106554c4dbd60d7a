// DnsServer: dnsmasq for the SRV tests (dns_server.hpp).
#include "dns_server.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace pcj::test {
namespace {

// A socket of `type` bound to 127.0.0.1:port (0: any); -1 when that fails.
int bound_socket(int type, std::uint16_t port) {
    const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

std::uint16_t port_of(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
}

// A port free for both UDP and TCP on 127.0.0.1 (dnsmasq takes both).
std::uint16_t free_dns_port() {
    for (int i = 0; i < 20; ++i) {
        const int udp = bound_socket(SOCK_DGRAM, 0);
        if (udp < 0) {
            continue;
        }
        const std::uint16_t port = port_of(udp);
        const int tcp = bound_socket(SOCK_STREAM, port);
        ::close(udp);
        if (tcp >= 0) {
            ::close(tcp);
            return port;
        }
    }
    throw std::runtime_error("DnsServer: no free port on 127.0.0.1");
}

bool accepts_tcp(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

} // namespace

DnsServer::DnsServer(std::vector<std::string> records) {
    char tmpl[] = "/tmp/pcj-dns-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
        throw std::runtime_error("DnsServer: mkdtemp failed");
    }
    dir_ = tmpl;
    for (int attempt = 0; attempt < 3; ++attempt) {
        if (start(records)) {
            return;
        }
    }
    const std::string output = log();
    std::filesystem::remove_all(dir_);
    throw std::runtime_error("DnsServer: dnsmasq did not start:\n" + output);
}

DnsServer::~DnsServer() {
    stop();
    if (std::getenv("PCJ_KEEP_SERVER_DIRS") == nullptr) {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
}

bool DnsServer::start(const std::vector<std::string>& records) {
    port_ = free_dns_port();
    std::vector<std::string> args = {
        "dnsmasq",
        "--keep-in-foreground",
        "--conf-file=/dev/null", // none of the system's configuration
        "--no-resolv",           // no upstream servers: only the records below
        "--no-hosts",
        "--port=" + std::to_string(port_),
        "--listen-address=127.0.0.1",
        "--bind-interfaces",
        "--pid-file=" + dir_ + "/dnsmasq.pid",
        "--log-queries",
        "--log-facility=" + dir_ + "/dnsmasq.log",
        "--local=/pcj.test/", // unknown names there: NXDOMAIN rather than "no upstream"
    };
    if (::geteuid() == 0) {
        args.emplace_back("--user=root"); // keep the rights to its log file in our directory
    }
    args.insert(args.end(), records.begin(), records.end());
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string out = dir_ + "/dnsmasq.out";
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    // Debian puts it in /usr/sbin, which an ordinary user's PATH may lack.
    const char* program =
        ::access("/usr/sbin/dnsmasq", X_OK) == 0 ? "/usr/sbin/dnsmasq" : "dnsmasq";
    const int rc = ::posix_spawnp(&pid_, program, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::runtime_error(std::string("DnsServer: cannot run dnsmasq (dnsmasq-base): ") +
                                 std::strerror(rc));
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1; // it exited: most likely the port was taken meanwhile
            return false;
        }
        if (accepts_tcp(port_)) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
    return false;
}

void DnsServer::stop() {
    if (pid_ <= 0) {
        return;
    }
    ::kill(pid_, SIGTERM);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
}

std::string DnsServer::address() const {
    return "127.0.0.1:" + std::to_string(port_);
}

std::string DnsServer::log() const {
    std::string all;
    for (const char* name : {"/dnsmasq.out", "/dnsmasq.log"}) {
        std::ifstream in(dir_ + name);
        std::ostringstream one; // its own stream: an empty file leaves it failed
        one << in.rdbuf();
        all += one.str();
    }
    return all;
}

SilentUdpPort::SilentUdpPort() : fd_(bound_socket(SOCK_DGRAM, 0)) {
    if (fd_ < 0) {
        throw std::runtime_error("SilentUdpPort: cannot bind a UDP port on 127.0.0.1");
    }
    port_ = port_of(fd_);
}

SilentUdpPort::~SilentUdpPort() {
    ::close(fd_);
}

RefusingPort::RefusingPort() : fd_(bound_socket(SOCK_STREAM, 0)) {
    if (fd_ < 0) {
        throw std::runtime_error("RefusingPort: cannot bind a TCP port on 127.0.0.1");
    }
    port_ = port_of(fd_);
}

RefusingPort::~RefusingPort() {
    ::close(fd_);
}

} // namespace pcj::test
