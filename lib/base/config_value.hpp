// One value of a TOML config file, checked for its type and range, and the parsing of a
// `servers` entry; each failure names the file, line and key.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "pcj/config.hpp"

namespace pcj::detail {

// One value of the file, with what an error message needs to point at it. Every accessor
// throws ConfigError when the value is not of the kind asked for.
class Value {
public:
    Value(const toml::node& node, std::string key, std::string_view source, std::string base_dir)
        : node_(node), key_(std::move(key)), source_(source), base_dir_(std::move(base_dir)) {}

    // Throws ConfigError "FILE:LINE: KEY: why".
    [[noreturn]] void fail(const std::string& why) const;

    std::string str() const;
    bool boolean() const;
    std::int64_t integer(std::int64_t low, std::int64_t high) const;
    double number(double low, double high) const;
    // Durations are integer milliseconds, never negative.
    std::chrono::milliseconds millis() const;
    std::vector<std::string> strings() const;
    // A file name; a relative one is taken relative to the config file's directory.
    std::string path() const;
    std::string non_empty() const;

private:
    const toml::node& node_;
    std::string key_;
    std::string_view source_;
    std::string base_dir_;

    [[noreturn]] void wrong_type(const std::string& expected) const;
};

// "HOST:PORT" or "[IPv6]:PORT", one entry of `servers`; `v` (the array) names it in errors.
ServerAddress server_address(const Value& v, const std::string& entry);

} // namespace pcj::detail
