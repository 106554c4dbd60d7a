// The transport's read budget: one connection flooding its socket gets at most 256 KiB read per
// loop turn, so that another connection on the same loop is served in the same turn.
#include "transport.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include <uv.h>

#include <catch2/catch.hpp>

#include "loop_fixture.hpp"
#include "scripted_peer.hpp"

using namespace std::chrono_literals;
using pcj::detail::Transport;
using pcj::test::LoopFixture;
using pcj::test::ScriptedPeer;

namespace {

// Counts what the flooding connection reads between two checks (once per loop turn).
struct TurnMeter {
    uv_check_t check{};
    std::size_t this_turn = 0;
    std::size_t most = 0;
    static void on_check(uv_check_t* h) {
        auto* self = static_cast<TurnMeter*>(h->data);
        self->most = std::max(self->most, self->this_turn);
        self->this_turn = 0;
    }
};

} // namespace

TEST_CASE("transport: a flooding connection cannot take a whole loop turn from another",
          "[transport][budget][hostile]") {
    LoopFixture fx;
    constexpr std::size_t flood = 24 * 1024 * 1024;
    ScriptedPeer flooder(fx.loop());
    flooder.send(std::string(flood, ' '));
    ScriptedPeer quiet(fx.loop());
    quiet.pause(50ms).send("hello");

    TurnMeter meter;
    uv_check_init(fx.loop(), &meter.check);
    meter.check.data = &meter;
    uv_check_start(&meter.check, TurnMeter::on_check);

    std::size_t flooded = 0;
    std::size_t flooded_when_quiet_spoke = 0;
    bool stalled = false;
    Transport::Callbacks fc;
    fc.on_data = [&](std::string_view bytes) {
        flooded += bytes.size();
        meter.this_turn += bytes.size();
        // Once, a slow turn: megabytes pile up in the socket meanwhile.
        if (!stalled && flooded > 1024 * 1024) {
            stalled = true;
            std::this_thread::sleep_for(300ms);
        }
    };
    Transport::Callbacks qc;
    qc.on_data = [&](std::string_view) {
        flooded_when_quiet_spoke = flooded;
    };
    Transport a(fx.loop(), fc);
    Transport b(fx.loop(), qc);
    a.connect("127.0.0.1", flooder.port(), 2s);
    b.connect("127.0.0.1", quiet.port(), 2s);
    REQUIRE(fx.run_until([&] { return flooded == flood && flooded_when_quiet_spoke > 0; }, 30s));
    CAPTURE(meter.most, flooded_when_quiet_spoke);
    // libuv alone reads up to 32 buffers of 64 KiB from one socket before the next one.
    CHECK(meter.most <= 256 * 1024);
    CHECK(meter.most > 0);
    // The quiet connection was heard while the flood was still coming in.
    CHECK(flooded_when_quiet_spoke < flood);
    uv_close(reinterpret_cast<uv_handle_t*>(&meter.check), nullptr);
    fx.run_for(10ms);
}
