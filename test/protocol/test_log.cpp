// The log: every connection failure reaches the logger once, as an error naming the event and
// the reason, and the process-wide threshold decides which other lines are written.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "configs.hpp"
#include "loop_fixture.hpp"
#include "recorder.hpp"
#include "scripted_peer.hpp"
#include "scripts.hpp"

using namespace pcj;
using namespace pcj::test;
using namespace std::chrono_literals;

namespace {

struct Line {
    LogLevel level;
    std::string text;
};

// Records every line a component logs.
struct Lines {
    std::vector<Line> all;
    void attach(Component& c) {
        c.set_logger([this](LogLevel level, std::string_view, std::string_view text) {
            all.push_back({level, std::string(text)});
        });
    }
    std::vector<std::string> at(LogLevel level) const {
        std::vector<std::string> out;
        for (const auto& l : all) {
            if (l.level == level) {
                out.push_back(l.text);
            }
        }
        return out;
    }
};

// Restores the process-wide threshold when a test changed it.
struct LevelGuard {
    LogLevel was = log_level();
    ~LevelGuard() { set_log_level(was); }
};

std::uint16_t closed_port(LoopFixture& f) {
    std::uint16_t port = 0;
    {
        ScriptedPeer probe(f.loop()); // find a port, then free it
        port = probe.port();
    }
    f.run_for(20ms);
    return port;
}

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

// A component with `cfg` whose log lines and events are recorded, connecting from the start.
struct Logged {
    Component c;
    Lines lines;
    Recorder rec;

    Logged(const Config& cfg, LoopFixture& f) : c(cfg, f.loop()), rec(c) {
        lines.attach(c);
        c.connect();
    }

    // The one line logged as an error (the test fails when there is not exactly one).
    std::string only_error() const {
        const auto errors = lines.at(LogLevel::error);
        REQUIRE(errors.size() == 1);
        return errors[0];
    }
};

} // namespace

TEST_CASE("log: the default threshold writes warnings and errors, not info", "[protocol][log]") {
    CHECK(log_level() == LogLevel::warning);
}

TEST_CASE("log: a refused connection is logged once as an error naming PCJ_CONNECTFAIL",
          "[protocol][log]") {
    LoopFixture f;
    Logged l(j14_config(closed_port(f), 2s), f);
    REQUIRE(f.run_until([&] { return l.rec.has(ev::CONNECTFAIL); }));
    const std::string error = l.only_error();
    CHECK(has(error, "PCJ_CONNECTFAIL"));
    CHECK(has(error, "connect"));
}

TEST_CASE("log: a name DNS cannot resolve is logged as an error naming PCJ_CONNECTFAIL",
          "[protocol][log]") {
    LoopFixture f;
    Config cfg = j14_config(closed_port(f), 2s);
    cfg.ip = "nowhere.invalid";
    cfg.dns.servers = {"127.0.0.1:" + std::to_string(closed_port(f))}; // no DNS server there
    cfg.dns.timeout = 200ms;
    cfg.dns.tries = 1;
    Logged l(cfg, f);
    REQUIRE(f.run_until([&] { return l.rec.has(ev::CONNECTFAIL); }));
    CHECK(has(l.only_error(), "PCJ_CONNECTFAIL"));
}

TEST_CASE("log: a refused secret is logged once as an error naming PCJ_AUTHFAIL and the "
          "condition",
          "[protocol][log]") {
    LoopFixture f;
    ScriptedPeer peer(f.loop());
    peer.expect("<stream:stream")
        .send(component_header)
        .expect("<handshake>")
        .send("<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
              "</stream:error></stream:stream>")
        .expect("</stream:stream>")
        .close();
    Config cfg = j14_config(peer.port(), 2s);
    cfg.password = "WRONG";
    Logged l(cfg, f);
    REQUIRE(f.run_until([&] { return ended(l.c) && l.rec.has(ev::SHUTDOWN_FINISH); }));
    const std::string error = l.only_error();
    CHECK(has(error, "PCJ_AUTHFAIL"));
    CHECK(has(error, "not-authorized"));
}

TEST_CASE("log: set_log_level decides whether info and warning lines reach the logger",
          "[protocol][log]") {
    LevelGuard guard;
    LoopFixture f;
    Component c(j14_config(closed_port(f), 2s), f.loop());
    Lines lines;
    lines.attach(c);
    c.purge_queue(); // not connected: an info line says so
    CHECK(lines.all.empty());
    set_log_level(LogLevel::info);
    c.purge_queue();
    REQUIRE(lines.at(LogLevel::info).size() == 1);
    CHECK(has(lines.at(LogLevel::info)[0], "purge_queue"));
    set_log_level(LogLevel::error);
    Recorder rec(c);
    c.connect();
    REQUIRE(f.run_until([&] { return rec.has(ev::CONNECTFAIL); }));
    CHECK(lines.at(LogLevel::error).size() == 1); // errors still pass
    CHECK(lines.all.size() == 2);
}
