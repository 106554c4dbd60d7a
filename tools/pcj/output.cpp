// Event lines for `pcj watch`, the JSON ones made by nlohmann-json.
#include "output.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>

#include <nlohmann/json.hpp>

#include "runner.hpp"

namespace pcjtool {

namespace {

// UTC, with milliseconds: 2026-12-03T06:40:12.345Z.
std::string now_utc() {
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
    const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[40];
    const auto len = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return std::string(buf, len) + "." + std::to_string(1000 + ms.count() % 1000).substr(1) + "Z";
}

} // namespace

bool noisy(std::string_view event) {
    static constexpr std::string_view names[] = {
        pcj::net::READ,
        pcj::net::WRITE,
        pcj::net::READY_TO_WRITE,
        pcj::net::READY_TO_READ,
        pcj::xs::FEED,
        pcj::sock::PACKET_READ,
        pcj::sock::PACKET_SENT,
        pcj::sock::DATA_READ,
        pcj::xs::NODE,
        pcj::xs::IQ,
        pcj::xs::MESSAGE,
        pcj::xs::PRESENCE,
        pcj::xs::IQ_RESULT,
        pcj::xs::IQ_SET,
        pcj::xs::IQ_GET,
        pcj::xs::IQ_ERROR,
    };
    return std::find(std::begin(names), std::end(names), event) != std::end(names);
}

std::string json_line(const pcj::Event& e) {
    nlohmann::json j;
    j["time"] = now_utc();
    j["event"] = std::string(e.name);
    if (e.reason != nullptr) {
        j["reason"] = {{"op", e.reason->op},
                       {"code", e.reason->code},
                       {"condition", e.reason->condition},
                       {"text", e.reason->text}};
    } else {
        j["reason"] = nullptr;
    }
    j["stanza"] = e.node != nullptr ? nlohmann::json(masked(*e.node)) : nlohmann::json(nullptr);
    if (!e.xpath.empty()) {
        j["xpath"] = std::string(e.xpath);
    }
    // Bytes that are not UTF-8 (a server's bad text) are replaced rather than ending the watch.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string one_line(std::string xml) {
    for (std::size_t at = xml.find_first_of("\r\n"); at != std::string::npos;
         at = xml.find_first_of("\r\n", at)) {
        xml.replace(at, 1, xml[at] == '\n' ? "&#10;" : "&#13;");
    }
    return xml;
}

std::string text_line(const pcj::Event& e) {
    std::string line = now_utc() + " " + std::string(e.name);
    if (!e.xpath.empty()) {
        line += " xpath=" + std::string(e.xpath);
    }
    if (e.reason != nullptr) {
        line += " [" + e.reason->to_string() + "]";
    }
    if (e.node != nullptr) {
        // Two appends, not " " + …: GCC 12 at -O3 sees a false -Wrestrict overlap there.
        line.push_back(' ');
        line += one_line(masked(*e.node));
    }
    return line;
}

} // namespace pcjtool
