#include "dial_plan.hpp"

#include <algorithm>
#include <map>
#include <random>

#include <netinet/in.h>

namespace pcj::detail {

Pick random_pick() {
    return [](std::uint32_t bound) {
        thread_local std::mt19937 engine{std::random_device{}()};
        return std::uniform_int_distribution<std::uint32_t>(0, bound)(engine);
    };
}

namespace {

// RFC 2782's selection within one priority.
void draw_weighted(std::vector<DialTarget> group, const Pick& pick, std::vector<DialTarget>& out) {
    // Zero-weight records first: they are chosen only when the number drawn is 0.
    std::stable_partition(group.begin(), group.end(),
                          [](const DialTarget& t) { return t.weight == 0; });
    while (!group.empty()) {
        std::uint32_t total = 0;
        for (const auto& t : group) {
            total += t.weight;
        }
        const std::uint32_t drawn = pick(total);
        std::size_t chosen = group.size() - 1;
        std::uint32_t running = 0;
        for (std::size_t i = 0; i < group.size(); ++i) {
            running += group[i].weight;
            if (running >= drawn) {
                chosen = i;
                break;
            }
        }
        out.push_back(std::move(group[chosen]));
        group.erase(group.begin() + static_cast<std::ptrdiff_t>(chosen));
    }
}

} // namespace

std::vector<DialTarget> order_srv(std::vector<DialTarget> records, const Pick& pick) {
    std::map<std::uint16_t, std::vector<DialTarget>> by_priority;
    for (auto& r : records) {
        by_priority[r.priority].push_back(std::move(r));
    }
    std::vector<DialTarget> out;
    for (auto& [priority, group] : by_priority) {
        draw_weighted(std::move(group), pick, out);
    }
    return out;
}

std::vector<DialTarget> merge_srv(const std::vector<DialTarget>& starttls,
                                  const std::vector<DialTarget>& direct, bool prefer_direct,
                                  const Pick& pick) {
    if (prefer_direct) {
        std::vector<DialTarget> out = order_srv(direct, pick);
        for (auto& t : order_srv(starttls, pick)) {
            out.push_back(std::move(t));
        }
        return out;
    }
    std::vector<DialTarget> all = starttls;
    all.insert(all.end(), direct.begin(), direct.end());
    return order_srv(std::move(all), pick);
}

std::vector<sockaddr_storage> interleave(const std::vector<sockaddr_storage>& addresses) {
    if (addresses.empty()) {
        return {};
    }
    const auto first = addresses.front().ss_family;
    std::vector<sockaddr_storage> same;
    std::vector<sockaddr_storage> other;
    for (const auto& a : addresses) {
        (a.ss_family == first ? same : other).push_back(a);
    }
    std::vector<sockaddr_storage> out;
    for (std::size_t i = 0; i < std::max(same.size(), other.size()); ++i) {
        if (i < same.size()) {
            out.push_back(same[i]);
        }
        if (i < other.size()) {
            out.push_back(other[i]);
        }
    }
    return out;
}

std::vector<DialTarget> targets_of(const std::vector<SrvAnswer>& answers,
                                   const std::string& service, bool direct_tls) {
    std::vector<DialTarget> out;
    for (const auto& a : answers) {
        if (a.target == ".") {
            continue;
        }
        DialTarget t;
        t.host = a.target;
        t.port = a.port;
        t.direct_tls = direct_tls;
        t.service = service;
        t.priority = a.priority;
        t.weight = a.weight;
        out.push_back(std::move(t));
    }
    return out;
}

bool service_refused(const std::vector<SrvAnswer>& answers) {
    return answers.size() == 1 && answers.front().target == ".";
}

} // namespace pcj::detail
