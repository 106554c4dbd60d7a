// ServerRotation: the order in which a connection goes through Config::servers — the listed
// order or a random one per round, one server after another until one accepts the connection,
// and where the next round starts (doc/connecting.md, "Several servers"). Pure logic: no loop.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "pcj/config.hpp"
#include "pcj/payload.hpp"

namespace pcj::detail {

class ServerRotation {
public:
    // `uniform` returns a number in [0, 1); empty: a per-process generator.
    explicit ServerRotation(std::function<double()> uniform = {});

    // A fresh round over `servers`: the listed order, or a new random one when `shuffle`.
    void start(const std::vector<ServerAddress>& servers, bool shuffle);
    // After a round in which every server failed: a new round, drawn afresh when shuffled.
    void restart();
    // After a connection on the current server ended: a new round in the same order, from the
    // current server on (it may have been a passing failure; the others follow).
    void restart_from_current();
    // After a connection on the current server failed before READY (it accepted the TCP
    // connection but the negotiation failed or timed out, as a frozen node does): a new round
    // from the next server on, wrapping round to the current one last.
    void restart_from_next();
    // Moves to the next server of the round; false when every one was tried.
    bool advance();
    bool has_next() const { return tried_ + 1 < order_.size(); }
    bool empty() const { return order_.empty(); }

    const ServerAddress& current() const { return servers_[order_[tried_]]; }
    ServerChoice choice() const;
    // The indexes of the round, in the order they are tried (for tests).
    const std::vector<std::size_t>& order() const { return order_; }

private:
    void draw_order();

    std::vector<ServerAddress> servers_;
    bool shuffle_ = false;
    std::vector<std::size_t> order_; // indexes into servers_, in this round's order
    std::size_t tried_ = 0;          // the place in order_ of the server in use
    std::function<double()> uniform_;
};

} // namespace pcj::detail
