// ServerRotation: rounds over Config::servers, listed or shuffled.
#include "server_rotation.hpp"

#include <algorithm>
#include <numeric>
#include <random>
#include <utility>

namespace pcj::detail {

namespace {

double default_uniform() {
    static thread_local std::mt19937_64 engine{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

} // namespace

ServerRotation::ServerRotation(std::function<double()> uniform)
    : uniform_(uniform ? std::move(uniform) : default_uniform) {}

void ServerRotation::start(const std::vector<ServerAddress>& servers, bool shuffle) {
    servers_ = servers;
    shuffle_ = shuffle;
    draw_order();
}

void ServerRotation::restart() {
    if (shuffle_) {
        draw_order();
    }
    tried_ = 0;
}

void ServerRotation::restart_from_current() {
    if (order_.empty()) {
        return;
    }
    std::rotate(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(tried_), order_.end());
    tried_ = 0;
}

void ServerRotation::restart_from_next() {
    if (order_.empty()) {
        return;
    }
    tried_ = (tried_ + 1) % order_.size();
    restart_from_current();
}

bool ServerRotation::advance() {
    if (!has_next()) {
        return false;
    }
    ++tried_;
    return true;
}

ServerChoice ServerRotation::choice() const {
    ServerChoice c;
    if (order_.empty()) {
        return c;
    }
    c.host = current().host;
    c.port = current().port;
    c.index = order_[tried_];
    c.tried = tried_;
    c.count = servers_.size();
    return c;
}

// Fisher-Yates with the injected random source, so that a test can know the order.
void ServerRotation::draw_order() {
    order_.resize(servers_.size());
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    tried_ = 0;
    if (!shuffle_) {
        return;
    }
    for (std::size_t i = order_.size(); i > 1; --i) {
        const double u = std::clamp(uniform_(), 0.0, 1.0);
        const auto j = std::min(i - 1, static_cast<std::size_t>(u * static_cast<double>(i)));
        std::swap(order_[i - 1], order_[j]);
    }
}

} // namespace pcj::detail
