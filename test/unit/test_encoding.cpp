// Base64 and hex through GnuTLS: known vectors (RFC 4648 §10), and what is refused.
#include <catch2/catch.hpp>

#include <string>

#include "encoding.hpp"

using pcj::detail::base64_decode;
using pcj::detail::base64_encode;
using pcj::detail::hex_encode;

TEST_CASE("encoding: base64 matches RFC 4648's test vectors both ways", "[encoding][base64]") {
    const auto [raw, encoded] = GENERATE(table<std::string, std::string>({
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    }));
    CHECK(base64_encode(raw) == encoded);
    CHECK(base64_decode(encoded) == raw);
}

TEST_CASE("encoding: base64 keeps every byte value", "[encoding][base64]") {
    std::string all;
    for (int b = 0; b < 256; ++b) {
        all.push_back(static_cast<char>(b));
    }
    const std::string encoded = base64_encode(all);
    CHECK(encoded.find_first_of("\r\n ") == std::string::npos); // no line breaks, however long
    CHECK(base64_decode(encoded) == all);
}

TEST_CASE("encoding: text that is not padded base64 is refused", "[encoding][base64]") {
    const std::string bad = GENERATE(as<std::string>{}, "Zm9", "Zm9vYg",
                                     "Zm9vYg=", "Zg===", "Z===", "Zm=v", "Zm9v!A==", "====");
    INFO(bad);
    CHECK_FALSE(base64_decode(bad).has_value());
}

TEST_CASE("encoding: hex is lowercase, two digits a byte", "[encoding][hex]") {
    CHECK(hex_encode(std::string()).empty());
    CHECK(hex_encode(std::string("\x00\x01\x7f\x80\xab\xff", 6)) == "00017f80abff");
    const unsigned char bytes[] = {0xde, 0xad, 0xbe, 0xef};
    CHECK(hex_encode(bytes, sizeof bytes) == "deadbeef");
}

TEST_CASE("encoding: base64 with spaces or line breaks is refused, as RFC 6120 requires for SASL",
          "[encoding][base64]") {
    CHECK(base64_decode("Zm9vYmFy") == "foobar");
    const std::string spaced = GENERATE(as<std::string>{}, "Zm9v YmFy", "Zm9v\nYmFy",
                                        "Zm9vYmFy\r\n", " Zm9vYmFy", "Zm9v\tYmFy");
    INFO(spaced);
    CHECK_FALSE(base64_decode(spaced).has_value());
}
