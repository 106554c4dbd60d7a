// The checked accessors of one TOML value, and the HOST:PORT parsing of a `servers` entry.
#include "config_value.hpp"

#include <charconv>
#include <filesystem>
#include <sstream>

#include "pcj/error.hpp"

namespace pcj::detail {

void Value::fail(const std::string& why) const {
    throw ConfigError(std::string(source_) + ":" + std::to_string(node_.source().begin.line) +
                      ": " + key_ + ": " + why);
}

std::string Value::str() const {
    if (!node_.is_string()) {
        wrong_type("a string");
    }
    return node_.as_string()->get();
}

bool Value::boolean() const {
    if (!node_.is_boolean()) {
        wrong_type("true or false");
    }
    return node_.as_boolean()->get();
}

std::int64_t Value::integer(std::int64_t low, std::int64_t high) const {
    if (!node_.is_integer()) {
        wrong_type("an integer");
    }
    const std::int64_t n = node_.as_integer()->get();
    if (n < low || n > high) {
        fail("must be between " + std::to_string(low) + " and " + std::to_string(high) + ", not " +
             std::to_string(n));
    }
    return n;
}

double Value::number(double low, double high) const {
    double n = 0;
    if (node_.is_integer()) {
        n = static_cast<double>(node_.as_integer()->get());
    } else if (node_.is_floating_point()) {
        n = node_.as_floating_point()->get();
    } else {
        wrong_type("a number");
    }
    if (!(n >= low && n <= high)) { // also refuses nan
        std::ostringstream s;
        s << "must be between " << low << " and " << high << ", not " << n;
        fail(s.str());
    }
    return n;
}

std::chrono::milliseconds Value::millis() const {
    return std::chrono::milliseconds(integer(0, std::int64_t{24} * 3600 * 1000));
}

std::vector<std::string> Value::strings() const {
    if (!node_.is_array()) {
        wrong_type("an array of strings");
    }
    std::vector<std::string> out;
    for (const toml::node& item : *node_.as_array()) {
        if (!item.is_string()) {
            Value(item, key_, source_, base_dir_).wrong_type("an array of strings");
        }
        out.push_back(item.as_string()->get());
    }
    return out;
}

std::string Value::path() const {
    std::string p = str();
    if (!p.empty() && p.front() != '/' && !base_dir_.empty()) {
        p = (std::filesystem::path(base_dir_) / p).lexically_normal().string();
    }
    return p;
}

std::string Value::non_empty() const {
    std::string s = str();
    if (s.empty()) {
        fail("must not be empty");
    }
    return s;
}

void Value::wrong_type(const std::string& expected) const {
    std::ostringstream s;
    s << "expected " << expected << ", not " << node_.type();
    fail(s.str());
}

ServerAddress server_address(const Value& v, const std::string& entry) {
    const auto colon = entry.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        v.fail("'" + entry + "' is not HOST:PORT (e.g. node1.example.org:5347, [::1]:5347)");
    }
    std::string host = entry.substr(0, colon);
    if (host.front() == '[') {
        if (host.back() != ']' || host.size() < 3) {
            v.fail("'" + entry + "' is not HOST:PORT (e.g. node1.example.org:5347, [::1]:5347)");
        }
        host = host.substr(1, host.size() - 2);
    }
    const char* first = entry.data() + colon + 1;
    const char* last = entry.data() + entry.size();
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(first, last, port);
    if (ec != std::errc() || end != last || port == 0 || port > 65535) {
        v.fail("'" + entry + "': the port must be between 1 and 65535");
    }
    return ServerAddress{host, static_cast<std::uint16_t>(port)};
}

} // namespace pcj::detail
