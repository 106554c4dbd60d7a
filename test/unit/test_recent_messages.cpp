// RecentMessages (Config::duplicate_window): which received messages count as repeats.
#include <catch2/catch.hpp>

#include <string>

#include "pcj/node.hpp"
#include "recent_messages.hpp"

using pcj::Node;
using pcj::detail::RecentMessages;

namespace {

Node message(const std::string& from, const std::string& id) {
    Node m("message");
    if (!from.empty()) {
        m.set_attr("from", from);
    }
    if (!id.empty()) {
        m.set_attr("id", id);
    }
    return m;
}

} // namespace

TEST_CASE("recent messages: the same from and id is a repeat within the window", "[unit]") {
    RecentMessages recent(2);
    CHECK_FALSE(recent.repeat(message("a@x/r", "1")));
    CHECK(recent.repeat(message("a@x/r", "1")));
    CHECK_FALSE(recent.repeat(message("b@x/r", "1"))); // another sender
    CHECK_FALSE(recent.repeat(message("a@x/r", "2"))); // another id; "a 1" leaves the window
    CHECK(recent.remembered() == 2);
    CHECK_FALSE(recent.repeat(message("a@x/r", "1")));
    CHECK(recent.repeat(message("a@x/r", "2")));
}

TEST_CASE("recent messages: no id, other stanzas and a window of 0 are never repeats", "[unit]") {
    RecentMessages recent(8);
    CHECK_FALSE(recent.repeat(message("a@x/r", "")));
    CHECK_FALSE(recent.repeat(message("a@x/r", "")));
    Node iq("iq");
    iq.set_attr("id", "q1");
    CHECK_FALSE(recent.repeat(iq));
    CHECK_FALSE(recent.repeat(iq));
    CHECK(recent.remembered() == 0);
    // A key is from and id apart: "a" + "1b" is not "a1" + "b".
    CHECK_FALSE(recent.repeat(message("a", "1b")));
    CHECK_FALSE(recent.repeat(message("a1", "b")));
    RecentMessages off(0);
    CHECK_FALSE(off.repeat(message("a@x/r", "1")));
    CHECK_FALSE(off.repeat(message("a@x/r", "1")));
}
