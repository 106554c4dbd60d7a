// The pre-filter's planner on expressions far larger than any filter needs: bounded, left
// unindexed, and still decided by libxml2.
#include <catch2/catch.hpp>

#include <pthread.h>

#include <cstddef>
#include <functional>
#include <string>

#include "pcj/node.hpp"
#include "xpath.hpp"
#include "xpath_index.hpp"

using pcj::build;
using pcj::Node;
using pcj::detail::Cond;
using pcj::detail::FilterSet;
using pcj::detail::make_plan;
using pcj::detail::Plan;

namespace {

// "/message[@id='0'] or /message[@id='1'] or …", `terms` terms.
std::string or_chain(int terms) {
    std::string xpath;
    for (int i = 0; i < terms; ++i) {
        xpath += (i == 0 ? "" : " or ") + std::string("/message[@id='") + std::to_string(i) + "']";
    }
    return xpath;
}

// "self::node()/self::node()/…/self::message": a path of `steps` steps.
std::string long_path(int steps) {
    std::string xpath;
    for (int i = 1; i < steps; ++i) {
        xpath += "self::node()/";
    }
    return xpath + "self::message";
}

// AddressSanitizer makes every frame several times larger (redzones around each local: about
// 6 KiB a level of the planner at -O0), so the bounded recursion needs a larger stack there;
// still far below what an unbounded recursion over thousands of levels would take (60 MiB).
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kSmallStack = 4 * 1024 * 1024;
#else
constexpr std::size_t kSmallStack = 256 * 1024;
#endif

// Runs `work` on a thread with a small stack (kSmallStack), far less than the main thread's: an
// unbounded recursion over a 4,000-level tree overflows it (about 1 KiB a level, several times
// that under ASan) and kills the test run.
void on_small_stack(const std::function<void()>& work) {
    pthread_attr_t attr;
    REQUIRE(pthread_attr_init(&attr) == 0);
    REQUIRE(pthread_attr_setstacksize(&attr, kSmallStack) == 0);
    auto run = [](void* arg) -> void* {
        (*static_cast<const std::function<void()>*>(arg))();
        return nullptr;
    };
    pthread_t thread;
    REQUIRE(pthread_create(&thread, &attr, run, const_cast<std::function<void()>*>(&work)) == 0);
    REQUIRE(pthread_join(thread, nullptr) == 0);
    pthread_attr_destroy(&attr);
}

bool unindexed(const Plan& plan) {
    return plan.keys.empty() && plan.cond.kind == Cond::Kind::yes;
}

} // namespace

TEST_CASE("xpath limits: a filter of 4,000 'or' terms is planned on a small stack and left "
          "unindexed",
          "[xpath][index][limits]") {
    Plan plan;
    plan.keys.resize(1); // so that a plan never made cannot pass
    on_small_stack([&] { plan = make_plan(or_chain(4000), {}); });
    CHECK(unindexed(plan));
}

TEST_CASE("xpath limits: a path of 10,000 steps is planned on a small stack and left unindexed",
          "[xpath][index][limits]") {
    Plan plan;
    plan.keys.resize(1);
    on_small_stack([&] { plan = make_plan(long_path(10000), {}); });
    CHECK(unindexed(plan));
}

TEST_CASE("xpath limits: a filter of a hundred alternatives is still indexed",
          "[xpath][index][limits]") {
    const Plan plan = make_plan(or_chain(100), {});
    CHECK(plan.keys.size() == 100);
}

TEST_CASE("xpath limits: an unindexed 4,000-term filter still fires exactly when libxml2 says",
          "[xpath][index][limits]") {
    FilterSet filters;
    filters.add("many", or_chain(4000));
    int fired = 0;
    auto count = [&](std::string_view, std::string_view, std::span<const Node>) {
        ++fired;
    };
    filters.evaluate(build("message").attr("id", "3999"), count);
    CHECK(fired == 1);
    filters.evaluate(build("message").attr("id", "4000"), count);
    filters.evaluate(build("iq").attr("id", "1"), count);
    CHECK(fired == 1);
}
