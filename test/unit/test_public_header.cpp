// The umbrella header compiles alone and names PCJ's 28 status events correctly.
#include "pcj/pcj.hpp"

#include <catch2/catch.hpp>

#include <set>

TEST_CASE("events: the 28 status events keep PCJ's names, STREAMSTART spelled right", "[events]") {
    std::set<std::string_view> names(pcj::ev::all.begin(), pcj::ev::all.end());
    CHECK(names.size() == 28);
    for (auto n : pcj::ev::all) {
        CHECK(n.substr(0, 4) == "PCJ_");
    }
    CHECK(pcj::ev::STREAMSTART == "PCJ_STREAMSTART");
    CHECK(names.count("PCJ_READY") == 1);
    CHECK(names.count("PCJ_SOCKETDISCONNECT") == 1);
}

TEST_CASE("events: a reason reads as one line naming what failed", "[events]") {
    pcj::Reason r{"connect", 111, "", "Connection refused"};
    const std::string s = r.to_string();
    CHECK(s.find("connect") != std::string::npos);
    CHECK(s.find("Connection refused") != std::string::npos);
    CHECK(s.find("111") != std::string::npos);
}
