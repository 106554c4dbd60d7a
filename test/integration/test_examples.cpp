// The examples run, end to end, against real servers: an example that does not run is a bug.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <sys/wait.h>

#include "servers.hpp"

using namespace pcj::test;

namespace {

struct Run {
    int status = -1;
    std::string output;
};

Run run(const std::string& command) {
    Run r;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::array<char, 4096> buf{};
    while (std::fgets(buf.data(), static_cast<int>(buf.size()), pipe) != nullptr) {
        r.output += buf.data();
    }
    const int rc = ::pclose(pipe);
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    return r;
}

std::string example(const std::string& name) {
    const char* dir = std::getenv("PCJ_EXAMPLES_DIR");
    REQUIRE(dir != nullptr); // set by meson for the integration suite
    return std::string(dir) + "/" + name;
}

} // namespace

TEST_CASE("examples: j14_component completes its round trip against Prosody",
          "[integration][examples]") {
    TestServer s(ServerKind::prosody);
    const Run r = run(example("j14_component") + " --host " + s.get("HOST") + " --port " +
                      s.get("COMPONENT_PORT") + " --domain " + s.get("COMPONENT_DOMAIN") +
                      " --password " + s.get("COMPONENT_SECRET") + " --timeout 20");
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK(r.output.find("event: PCJ_READY") != std::string::npos);
    CHECK(r.output.find("OK: ready=1 echoed=1 clean_shutdown=1") != std::string::npos);
}

TEST_CASE("examples: j14_component exits non-zero and names the failure on a wrong secret",
          "[integration][examples]") {
    TestServer s(ServerKind::prosody);
    const Run r = run(example("j14_component") + " --host " + s.get("HOST") + " --port " +
                      s.get("COMPONENT_PORT") + " --domain " + s.get("COMPONENT_DOMAIN") +
                      " --password wrong --timeout 20");
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK(r.output.find("event: PCJ_AUTHFAIL") != std::string::npos);
}

TEST_CASE("examples: xmpp_client logs in with verified TLS and SCRAM and completes its round "
          "trip",
          "[integration][examples]") {
    TestServer s(ServerKind::prosody);
    const Run r = run(example("xmpp_client") + " --host " + s.get("HOST") + " --port " +
                      s.get("C2S_PORT") + " --domain " + s.get("DOMAIN") + " --user " +
                      s.get("USER") + " --password " + s.get("PASSWORD") + " --ca-file " +
                      s.get("CA_FILE") + " --mechanism SCRAM-SHA-256 --timeout 20");
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK(r.output.find("event: PCJ_SSLSUCCESS") != std::string::npos);
    CHECK(r.output.find("mechanism=\"SCRAM-SHA-256\"") != std::string::npos);
    CHECK(r.output.find("OK: ready=1 echoed=1 disco=1 clean_shutdown=1") != std::string::npos);
}

TEST_CASE("examples: legacy_client logs in with iq:auth over STARTTLS and completes its round "
          "trip",
          "[integration][examples]") {
    TestServer s(ServerKind::prosody);
    const Run r =
        run(example("legacy_client") + " --host " + s.get("HOST") + " --port " + s.get("C2S_PORT") +
            " --domain " + s.get("OPEN_DOMAIN") + " --user " + s.get("USER") + " --password " +
            s.get("PASSWORD") + " --ca-file " + s.get("CA_FILE") + " --timeout 20");
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK(r.output.find("event: PCJ_AUTHSUCCESS") != std::string::npos);
    CHECK(r.output.find("OK: ready=1 echoed=1 clean_shutdown=1") != std::string::npos);
}

TEST_CASE("examples: j2_component binds a domain on the jabberd2 router and gets its route back",
          "[integration][examples]") {
    TestServer s(ServerKind::jabberd2_router);
    const Run r = run(example("j2_component") + " --host " + s.get("HOST") + " --port " +
                      s.get("ROUTER_PORT") + " --domain " + s.get("DOMAIN") + " --user " +
                      s.get("ROUTER_USER") + " --password " + s.get("ROUTER_SECRET") +
                      " --bind echo.localhost --ca-file " + s.get("CA_FILE") + " --timeout 20");
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK(r.output.find("event: PCJ_BINDSUCCESS") != std::string::npos);
    CHECK(r.output.find("OK: ready=1 echoed=1 clean_shutdown=1") != std::string::npos);
}

TEST_CASE("examples: every example answers --help", "[integration][examples]") {
    for (const char* name :
         {"j14_component", "xmpp_client", "legacy_client", "j2_component", "config_daemon"}) {
        const Run r = run(example(name) + " --help");
        INFO(name << ": " << r.output);
        CHECK(r.status == 0);
        CHECK(r.output.find("Usage:") != std::string::npos);
    }
}

TEST_CASE("examples: a bad number or a missing option is refused, naming the option",
          "[integration][examples]") {
    auto [name, args, message] = GENERATE(table<std::string, std::string, std::string>({
        {"j14_component", "--host h --port 70000 --domain d --password p",
         "--port: Value 70000 not in range 1 to 65535"},
        {"j14_component", "--host h --port -1 --domain d --password p", "--port"},
        {"xmpp_client", "--host h --port abc --domain d --user u --password p", "--port"},
        {"legacy_client", "--domain d --user u --password p --timeout abc", "--timeout"},
        {"j2_component", "--port 5347 --domain d --user u --password p", "--host is required"},
        {"xmpp_client", "--host h --port 5222 --user u --password p", "--domain is required"},
    }));
    const Run r = run(example(name) + " " + args);
    INFO(name << " " << args << ": " << r.output);
    CHECK(r.status == 2);
    CHECK(r.output.find(message) != std::string::npos);
}
