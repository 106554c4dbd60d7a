// The core's two re-entrancy helpers: the Emitter's generation check and the Graveyard's
// deferred, reverse-order freeing.
#include <catch2/catch.hpp>

#include <csignal>

#include <memory>
#include <string>
#include <vector>

#include "emitter.hpp"
#include "graveyard.hpp"
#include "pcj/component.hpp"

using namespace pcj;
using namespace pcj::detail;

namespace {

struct Noted {
    Noted(std::vector<std::string>& log, std::string name) : log_(log), name_(std::move(name)) {}
    ~Noted() { log_.push_back(name_); }
    std::vector<std::string>& log_;
    std::string name_;
};

} // namespace

TEST_CASE("emitter: emit says whether a handler replaced the connection", "[core]") {
    PubSub events;
    const std::string alias = "test";
    Emitter emitter(events, alias);
    int heard = 0;
    auto quiet = events.subscribe("quiet", [&](const Event&) { ++heard; });
    auto replacing = events.subscribe("replace", [&](const Event&) {
        ++heard;
        emitter.next_generation();
    });
    const Emitter::Token before = emitter.token();
    CHECK(emitter.emit("quiet"));
    CHECK(emitter.emit("nobody-listens"));
    CHECK(before.current());
    CHECK_FALSE(emitter.emit("replace"));
    CHECK_FALSE(before.current());
    CHECK(emitter.token().current());
    CHECK(heard == 2);
}

TEST_CASE("graveyard: buried objects wait for the outermost scope, then go last-first", "[core]") {
    PubSub events;
    const std::string alias = "test";
    Emitter emitter(events, alias);
    Graveyard graveyard(emitter);
    std::vector<std::string> freed;
    {
        Graveyard::Scope outer(graveyard);
        {
            Graveyard::Scope inner(graveyard);
            graveyard.bury(std::make_unique<Noted>(freed, "link"));
            graveyard.bury(std::make_unique<Noted>(freed, "module"));
            graveyard.bury(std::unique_ptr<Noted>()); // nothing to bury: ignored
            graveyard.collect();
        }
        CHECK(freed.empty()); // the outer entry is still running
    }
    CHECK(freed == std::vector<std::string>{"module", "link"});

    graveyard.bury(std::make_unique<Noted>(freed, "outside"));
    graveyard.collect(); // no entry running: at once
    CHECK(freed.back() == "outside");
}

TEST_CASE("graveyard: guarded keeps an exception from escaping and logs it", "[core]") {
    PubSub events;
    const std::string alias = "test";
    Emitter emitter(events, alias);
    std::vector<std::string> lines;
    emitter.set_logger(
        [&](LogLevel, std::string_view, std::string_view line) { lines.emplace_back(line); });
    Graveyard graveyard(emitter);
    std::vector<std::string> freed;
    graveyard.guarded("test callback", [&] {
        graveyard.bury(std::make_unique<Noted>(freed, "module"));
        throw std::runtime_error("boom");
    });
    CHECK(freed == std::vector<std::string>{"module"}); // the scope ended despite the throw
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find("test callback: boom") != std::string::npos);
}

namespace {
void on_sigpipe(int) {}

pcj::Config sigpipe_config() {
    pcj::Config cfg;
    cfg.connection_type = pcj::ConnectionType::JABBERD14_COMPONENT;
    cfg.ip = "127.0.0.1";
    cfg.port = 5347;
    cfg.hostname = "component.localhost";
    cfg.password = "secret";
    return cfg;
}

void set_sigpipe(void (*handler)(int)) {
    struct sigaction sa {};
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    REQUIRE(sigaction(SIGPIPE, &sa, nullptr) == 0);
}

void (*sigpipe_handler())(int) {
    struct sigaction sa {};
    REQUIRE(sigaction(SIGPIPE, nullptr, &sa) == 0);
    return sa.sa_handler;
}
} // namespace

TEST_CASE("a component makes SIGPIPE harmless unless the application installed a handler",
          "[core]") {
    struct sigaction saved {};
    REQUIRE(sigaction(SIGPIPE, nullptr, &saved) == 0);
    set_sigpipe(SIG_DFL);
    { pcj::Component component(sigpipe_config()); }
    CHECK(sigpipe_handler() == SIG_IGN); // a write to a reset socket gives EPIPE, not death
    set_sigpipe(on_sigpipe);
    { pcj::Component component(sigpipe_config()); }
    CHECK(sigpipe_handler() == on_sigpipe); // the application's own handler stays
    REQUIRE(sigaction(SIGPIPE, &saved, nullptr) == 0);
}
