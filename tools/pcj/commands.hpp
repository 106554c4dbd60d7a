// The commands of `pcj`: each runs one connection and returns its exit code (options.hpp).
#pragma once

#include <string>
#include <vector>

#include "options.hpp"
#include "runner.hpp"

namespace pcjtool {

struct SendOptions {
    std::string to;
    std::string message_type = "chat";
    std::string from;              // components: the sender (default: the component's domain)
    std::vector<std::string> text; // words of the body, or "-" for stanzas from stdin
};

struct WatchOptions {
    std::vector<std::string> filters;
    bool json = false;
    int priority = 0;
    bool all_events = false;
};

struct RequestOptions {
    std::string to;
    std::string iq_type = "get"; // iq
    std::string xml;             // iq: the payload or the whole <iq/>
    std::string node;            // disco
    bool items = false;          // disco: #items instead of #info
    std::string from;            // components: the sender
};

enum class Request { iq, ping, disco };

int run_send(const Setup& setup, const Runner::Options& run, const SendOptions& o);
int run_watch(const Setup& setup, Runner::Options run, const WatchOptions& o);
int run_request(const Setup& setup, const Runner::Options& run, Request kind,
                const RequestOptions& o);

} // namespace pcjtool
