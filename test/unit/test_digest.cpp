// Handshake digest test vectors (XEP-0114 §3 example, FIPS 180 SHA-1 vectors).
#include <catch2/catch.hpp>

#include "digest.hpp"

using pcj::detail::handshake_digest;
using pcj::detail::sha1_hex;

TEST_CASE("digest: SHA-1 matches the standard test vectors", "[digest]") {
    CHECK(sha1_hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    CHECK(sha1_hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

TEST_CASE("digest: the XEP-0114 handshake is hex SHA-1 of stream id then secret", "[digest]") {
    // The example exchange in XEP-0114 §3: stream id 3BF96D32, secret "test".
    CHECK(handshake_digest("3BF96D32", "test") == "aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e");
    // Order matters: secret first gives something else.
    CHECK(handshake_digest("test", "3BF96D32") != handshake_digest("3BF96D32", "test"));
}

TEST_CASE("digest: output is 40 lowercase hex characters for any input", "[digest]") {
    const std::string binary("\x00\xff\x10 \xc3\xa9", 6);
    const std::string d = sha1_hex(binary);
    REQUIRE(d.size() == 40);
    for (char c : d) {
        CHECK(((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')));
    }
}
