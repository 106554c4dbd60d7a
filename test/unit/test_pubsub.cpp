// Unit tests for PubSub: delivery rules, RAII subscriptions, re-entrancy, exceptions, Reason text.
#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "pcj/events.hpp"
#include "pcj/pubsub.hpp"

using pcj::Event;
using pcj::PubSub;
using pcj::Subscription;

namespace {

Event named(std::string_view name) {
    Event event;
    event.name = name;
    return event;
}

// Records every call as "who:event".
struct Log {
    std::vector<std::string> calls;
    pcj::Handler record(std::string who) {
        return [this, who](const Event& e) {
            calls.push_back(who + ":" + std::string(e.name));
        };
    }
};

} // namespace

TEST_CASE("pubsub: a subscriber receives an event it subscribed to before it was ever published",
          "[pubsub][subscribe]") {
    PubSub bus;
    Log log;
    auto sub = bus.subscribe("PCJ_READY", log.record("a"));
    bus.publish(named("PCJ_READY"));
    bus.publish(named("PCJ_READY"));
    CHECK(log.calls == std::vector<std::string>{"a:PCJ_READY", "a:PCJ_READY"});
}

TEST_CASE("pubsub: the handler receives the event's payload", "[pubsub][subscribe]") {
    PubSub bus;
    pcj::Reason reason{"connect", 111, "", "Connection refused"};
    const pcj::Reason* seen = nullptr;
    std::string name;
    auto sub = bus.subscribe("PCJ_CONNECTFAIL", [&](const Event& e) {
        seen = e.reason;
        name = std::string(e.name);
    });
    Event event = named("PCJ_CONNECTFAIL");
    event.reason = &reason;
    bus.publish(event);
    CHECK(seen == &reason);
    CHECK(name == "PCJ_CONNECTFAIL");
}

TEST_CASE("pubsub: publishing an event nobody subscribed to is a no-op", "[pubsub][publish]") {
    PubSub bus;
    Log log;
    bus.publish(named("nobody")); // an empty registry
    auto sub = bus.subscribe("other", log.record("a"));
    bus.publish(named("nobody"));
    CHECK(log.calls.empty());
    CHECK_FALSE(bus.wanted("nobody"));
    CHECK(bus.wanted("other"));
    CHECK(bus.subscriber_count("nobody") == 0);
}

TEST_CASE("pubsub: subscribers are called in subscription order", "[pubsub][order]") {
    PubSub bus;
    Log log;
    auto a = bus.subscribe("e", log.record("a"));
    auto b = bus.subscribe("e", log.record("b"));
    auto c = bus.subscribe("e", log.record("c"));
    bus.publish(named("e"));
    CHECK(log.calls == std::vector<std::string>{"a:e", "b:e", "c:e"});
}

TEST_CASE("pubsub: a tap receives every event, in subscription order with the named ones",
          "[pubsub][tap]") {
    PubSub bus;
    Log log;
    auto tap1 = bus.subscribe_all(log.record("tap1"));
    auto named_sub = bus.subscribe("x", log.record("named"));
    auto tap2 = bus.subscribe_all(log.record("tap2"));
    bus.publish(named("x"));
    bus.publish(named("y"));
    CHECK(log.calls == std::vector<std::string>{"tap1:x", "named:x", "tap2:x", "tap1:y", "tap2:y"});
    CHECK(bus.wanted("anything"));
    CHECK(bus.subscriber_count("x") == 1); // taps are not counted
    tap1.cancel();
    tap2.cancel();
    CHECK_FALSE(bus.wanted("anything"));
}

TEST_CASE("pubsub: cancelling or destroying a Subscription unsubscribes", "[pubsub][raii]") {
    PubSub bus;
    Log log;
    auto kept = bus.subscribe("e", log.record("kept"));
    {
        auto scoped = bus.subscribe("e", log.record("scoped"));
        CHECK(scoped.active());
        CHECK(bus.subscriber_count("e") == 2);
    }
    CHECK(bus.subscriber_count("e") == 1);
    bus.publish(named("e"));
    kept.cancel();
    CHECK_FALSE(kept.active());
    kept.cancel(); // twice is harmless
    bus.publish(named("e"));
    CHECK(log.calls == std::vector<std::string>{"kept:e"});
    CHECK_FALSE(bus.wanted("e"));
}

TEST_CASE("pubsub: a Subscription may outlive its PubSub", "[pubsub][raii]") {
    Subscription sub;
    auto alive = std::make_shared<int>(1);
    std::weak_ptr<int> watch = alive;
    {
        PubSub bus;
        sub = bus.subscribe("e", [alive](const Event&) {});
        alive.reset();
        CHECK(sub.active());
    }
    CHECK_FALSE(sub.active());
    CHECK(watch.expired()); // the handler went with the PubSub
    sub.cancel();           // no registry left: nothing happens, nothing crashes
    CHECK_FALSE(sub.active());
}

TEST_CASE("pubsub: moving a Subscription moves the subscription", "[pubsub][raii]") {
    PubSub bus;
    Log log;
    Subscription a = bus.subscribe("e", log.record("a"));
    Subscription moved(std::move(a));
    CHECK_FALSE(a.active()); // NOLINT: checking the moved-from state on purpose
    CHECK(moved.active());
    a.cancel(); // a moved-from subscription cancels nothing
    bus.publish(named("e"));
    CHECK(log.calls == std::vector<std::string>{"a:e"});

    SECTION("move-assignment cancels the subscription it replaces") {
        Subscription b = bus.subscribe("e", log.record("b"));
        b = std::move(moved);
        CHECK(b.active());
        CHECK(bus.subscriber_count("e") == 1);
        log.calls.clear();
        bus.publish(named("e"));
        CHECK(log.calls == std::vector<std::string>{"a:e"});
    }
    SECTION("destroying the moved-to object cancels") {
        { Subscription last = std::move(moved); }
        CHECK(bus.subscriber_count("e") == 0);
    }
}

TEST_CASE("pubsub: a detached subscription stays until the PubSub goes", "[pubsub][raii]") {
    PubSub bus;
    Log log;
    {
        Subscription sub = bus.subscribe("e", log.record("d"));
        sub.detach();
        CHECK_FALSE(sub.active());
    }
    bus.publish(named("e"));
    CHECK(log.calls == std::vector<std::string>{"d:e"});
    CHECK(bus.subscriber_count("e") == 1);
}

TEST_CASE("pubsub: an empty handler gives an inactive subscription", "[pubsub][subscribe]") {
    PubSub bus;
    Subscription sub = bus.subscribe("e", pcj::Handler{});
    CHECK_FALSE(sub.active());
    CHECK_FALSE(bus.wanted("e"));
    bus.publish(named("e"));
}

TEST_CASE("pubsub: a subscriber added during a dispatch is called from the next one on",
          "[pubsub][reentrancy]") {
    PubSub bus;
    Log log;
    std::vector<Subscription> added;
    auto adder = bus.subscribe("e", [&](const Event&) {
        if (added.empty()) {
            added.push_back(bus.subscribe("e", log.record("late")));
            added.push_back(bus.subscribe_all(log.record("latetap")));
            added.push_back(bus.subscribe("brand-new", log.record("new"))); // a new topic
        }
    });
    bus.publish(named("e"));
    CHECK(log.calls.empty());
    bus.publish(named("e"));
    CHECK(log.calls == std::vector<std::string>{"late:e", "latetap:e"});
}

TEST_CASE("pubsub: a handler may cancel itself and is not destroyed while it runs",
          "[pubsub][reentrancy]") {
    PubSub bus;
    Log log;
    Subscription self;
    auto token = std::make_shared<int>(42);
    std::weak_ptr<int> watch = token;
    int seen_after_cancel = 0;
    self = bus.subscribe("e", [&, token](const Event&) {
        self.cancel();
        seen_after_cancel = *token; // the captures must still be alive here
        log.calls.push_back("self");
    });
    token.reset();
    auto after = bus.subscribe("e", log.record("after"));
    bus.publish(named("e"));
    bus.publish(named("e"));
    CHECK(seen_after_cancel == 42);
    CHECK(watch.expired()); // destroyed once the call was over
    CHECK(log.calls == std::vector<std::string>{"self", "after:e", "after:e"});
    CHECK(bus.subscriber_count("e") == 1);
}

TEST_CASE("pubsub: a subscriber cancelled by an earlier one during a dispatch is not called",
          "[pubsub][reentrancy]") {
    PubSub bus;
    Log log;
    Subscription later;
    Subscription later_tap;
    auto first = bus.subscribe("e", [&](const Event&) {
        later.cancel();
        later_tap.cancel();
        log.calls.push_back("first");
    });
    later = bus.subscribe("e", log.record("later"));
    auto last = bus.subscribe("e", log.record("last"));
    later_tap = bus.subscribe_all(log.record("tap"));
    bus.publish(named("e"));
    CHECK(log.calls == std::vector<std::string>{"first", "last:e"});
    CHECK(bus.subscriber_count("e") == 2);
}

TEST_CASE("pubsub: a handler may publish re-entrantly", "[pubsub][reentrancy]") {
    PubSub bus;
    Log log;
    Subscription added;
    auto outer = bus.subscribe("outer", [&](const Event&) {
        log.calls.push_back("outer-begin");
        bus.publish(named("inner"));
        bus.publish(named("outer-again"));
        log.calls.push_back("outer-end");
    });
    auto inner = bus.subscribe("inner", [&](const Event&) {
        log.calls.push_back("inner");
        if (!added.active())
            added = bus.subscribe("outer", log.record("added-in-inner"));
    });
    auto second = bus.subscribe("outer", log.record("second"));
    bus.publish(named("outer"));
    CHECK(log.calls ==
          std::vector<std::string>{"outer-begin", "inner", "outer-end", "second:outer"});
}

TEST_CASE("pubsub: a handler may publish the event being dispatched and cancel inside it",
          "[pubsub][reentrancy]") {
    PubSub bus;
    Log log;
    int nesting = 0;
    Subscription c;
    auto a = bus.subscribe("e", [&](const Event& e) {
        log.calls.push_back("a");
        if (nesting++ == 0)
            bus.publish(e);
    });
    auto b = bus.subscribe("e", [&](const Event&) {
        log.calls.push_back("b");
        c.cancel();
    });
    c = bus.subscribe("e", log.record("c"));
    bus.publish(named("e"));
    CHECK(log.calls == std::vector<std::string>{"a", "a", "b", "b"});
    CHECK(bus.subscriber_count("e") == 2);
}

TEST_CASE("pubsub: a handler's destructor may cancel other subscriptions", "[pubsub][reentrancy]") {
    PubSub bus;
    Log log;
    auto other = std::make_shared<Subscription>(bus.subscribe("e", log.record("other")));
    Subscription owner = bus.subscribe("e", [other](const Event&) {});
    std::weak_ptr<Subscription> watch = other;
    other.reset();
    CHECK(bus.subscriber_count("e") == 2);
    owner.cancel(); // destroys the lambda, which destroys (cancels) `other`
    CHECK(watch.expired());
    CHECK(bus.subscriber_count("e") == 0);
    bus.publish(named("e"));
    CHECK(log.calls.empty());
}

TEST_CASE("pubsub: an exception from a handler reaches the publisher and leaves the PubSub "
          "consistent",
          "[pubsub][exceptions]") {
    PubSub bus;
    Log log;
    Subscription cancelled;
    bool thrown_once = false;
    auto first = bus.subscribe("e", [&](const Event&) {
        if (!thrown_once) {
            thrown_once = true;
            cancelled.cancel();
            throw std::runtime_error("handler failed");
        }
        log.calls.push_back("first");
    });
    cancelled = bus.subscribe("e", log.record("cancelled"));
    auto last = bus.subscribe("e", log.record("last"));

    CHECK_THROWS_WITH(bus.publish(named("e")), "handler failed");
    CHECK(log.calls.empty()); // the dispatch stopped at the throwing handler
    CHECK(bus.subscriber_count("e") == 2);
    bus.publish(named("e"));
    CHECK(log.calls == std::vector<std::string>{"first", "last:e"});

    // A later subscription still lands after the remaining ones.
    auto after = bus.subscribe("e", log.record("after"));
    log.calls.clear();
    bus.publish(named("e"));
    CHECK(log.calls == std::vector<std::string>{"first", "last:e", "after:e"});
}

TEST_CASE("pubsub: destroying the PubSub inside a handler ends the dispatch safely",
          "[pubsub][reentrancy]") {
    auto bus = std::make_unique<PubSub>();
    Log log;
    auto killer = bus->subscribe("e", [&](const Event&) {
        log.calls.push_back("killer");
        bus.reset();
    });
    auto next = bus->subscribe("e", log.record("next"));
    auto tap = bus->subscribe_all(log.record("tap"));
    bus->publish(named("e"));
    CHECK(bus == nullptr);
    CHECK(log.calls == std::vector<std::string>{"killer"});
    CHECK_FALSE(next.active());
    next.cancel();
}

TEST_CASE("pubsub: events of one name do not reach subscribers of another", "[pubsub][publish]") {
    PubSub bus;
    Log log;
    auto a = bus.subscribe("PCJ_READY", log.record("ready"));
    auto b = bus.subscribe("PCJ_READ", log.record("read"));
    bus.publish(named("PCJ_READ"));
    CHECK(log.calls == std::vector<std::string>{"read:PCJ_READ"});
}

TEST_CASE("pubsub: Reason::to_string reads like a sentence", "[pubsub][reason]") {
    using pcj::Reason;
    CHECK(Reason{"connect", 111, "", "Connection refused"}.to_string() ==
          "connect: Connection refused (111)");
    CHECK(Reason{"connect", 111, "econnrefused", "Connection refused"}.to_string() ==
          "connect: Connection refused (111, econnrefused)");
    CHECK(Reason{"auth", 0, "not-authorized", "Password wrong"}.to_string() ==
          "auth: Password wrong (not-authorized)");
    CHECK(Reason{"auth", 0, "not-authorized", ""}.to_string() == "auth: not-authorized");
    CHECK(Reason{"read", 0, "", ""}.to_string() == "read");
    CHECK(Reason{"", 0, "", "lost"}.to_string() == "lost");
    CHECK(Reason{"", 5, "", ""}.to_string() == "(5)");
    CHECK(Reason{}.to_string() == "unknown failure");
}
