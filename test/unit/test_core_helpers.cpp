// The core's two re-entrancy helpers: the Emitter's generation check and the Graveyard's
// deferred, reverse-order freeing.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "emitter.hpp"
#include "graveyard.hpp"

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
