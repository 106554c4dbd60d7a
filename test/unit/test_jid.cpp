// JID parts, comparison, and which sender may answer a request.
#include <catch2/catch.hpp>

#include "jid.hpp"

using pcj::detail::bare_of;
using pcj::detail::domain_of;
using pcj::detail::reply_sender_matches;
using pcj::detail::same_jid;

TEST_CASE("JID parts and comparison", "[jid]") {
    CHECK(bare_of("alice@example.org/desk") == "alice@example.org");
    CHECK(domain_of("alice@example.org/desk") == "example.org");
    CHECK(domain_of("example.org") == "example.org");
    CHECK(same_jid("Alice@Example.ORG/desk", "alice@example.org/desk"));
    CHECK_FALSE(same_jid("alice@example.org/Desk", "alice@example.org/desk"));
    CHECK_FALSE(same_jid("alice@example.org", "alice@example.org/desk"));
}

TEST_CASE("a request to another address is answered only by that address", "[jid]") {
    const char* self = "alice@example.org/desk";
    CHECK(reply_sender_matches("bob@example.org/phone", "bob@example.org/phone", self));
    CHECK(reply_sender_matches("bob@example.org/phone", "BOB@example.org/phone", self));
    CHECK_FALSE(reply_sender_matches("bob@example.org/phone", "mallory@example.org/x", self));
    CHECK_FALSE(reply_sender_matches("bob@example.org/phone", "bob@example.org/other", self));
    CHECK_FALSE(reply_sender_matches("bob@example.org/phone", "", self));
    CHECK_FALSE(reply_sender_matches("bob@example.org/phone", "example.org", self));
    CHECK(reply_sender_matches("pubsub.example.org", "pubsub.example.org", self));
    CHECK_FALSE(reply_sender_matches("pubsub.example.org", "example.org", self));
}

TEST_CASE("a request to our own side may be answered by the server for us", "[jid]") {
    const char* self = "alice@example.org/desk";
    for (const char* asked : {"", "alice@example.org", "example.org"}) {
        INFO(asked);
        CHECK(reply_sender_matches(asked, "", self));
        CHECK(reply_sender_matches(asked, "alice@example.org", self));
        CHECK(reply_sender_matches(asked, "alice@example.org/desk", self));
        CHECK(reply_sender_matches(asked, "example.org", self));
        CHECK_FALSE(reply_sender_matches(asked, "mallory@example.org", self));
        CHECK_FALSE(reply_sender_matches(asked, "evil.example", self));
    }
}

TEST_CASE("a component's own side is its domain", "[jid]") {
    CHECK(reply_sender_matches("", "", "svc.example.org"));
    CHECK(reply_sender_matches("svc.example.org", "svc.example.org", "svc.example.org"));
    CHECK_FALSE(reply_sender_matches("", "user@example.org", "svc.example.org"));
    CHECK(reply_sender_matches("user@example.org/r", "user@example.org/r", "svc.example.org"));
}
