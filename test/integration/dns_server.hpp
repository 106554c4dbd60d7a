// DnsServer: dnsmasq on 127.0.0.1 with a port of its own and only the records a test gives it,
// for the SRV tests. Started and stopped by its PID; never the system's resolver.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <sys/types.h>

namespace pcj::test {

class DnsServer {
public:
    // `records` are dnsmasq options, e.g. "--srv-host=_xmpp-client._tcp.localhost,a.pcj.test,
    // 5222,0,0" or "--host-record=a.pcj.test,127.0.0.1". Names under pcj.test that no record
    // gives are answered NXDOMAIN. Throws std::runtime_error, with dnsmasq's log, when it cannot
    // be started: tests fail loudly.
    explicit DnsServer(std::vector<std::string> records);
    ~DnsServer();
    DnsServer(const DnsServer&) = delete;
    DnsServer& operator=(const DnsServer&) = delete;

    std::uint16_t port() const { return port_; }
    std::string address() const; // "127.0.0.1:PORT", as Config::dns.servers takes it
    std::string log() const;     // dnsmasq's query log

private:
    std::string dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
    bool start(const std::vector<std::string>& records);
    void stop();
};

// A UDP port on 127.0.0.1 that is bound but never answers: a DNS server that does not reply.
class SilentUdpPort {
public:
    SilentUdpPort();
    ~SilentUdpPort();
    SilentUdpPort(const SilentUdpPort&) = delete;
    SilentUdpPort& operator=(const SilentUdpPort&) = delete;
    std::uint16_t port() const { return port_; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

// A TCP port on 127.0.0.1 that refuses connections (bound, not listening), held for the test.
class RefusingPort {
public:
    RefusingPort();
    ~RefusingPort();
    RefusingPort(const RefusingPort&) = delete;
    RefusingPort& operator=(const RefusingPort&) = delete;
    std::uint16_t port() const { return port_; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

} // namespace pcj::test
