// MERGE (branch `unattended`): the per-stanza outcome types that branch defines in
// include/pcj/outcome.hpp (Delivery, Outcome) and lib/core/outbox.hpp (OutcomeHandler), declared
// here so that stream management builds without it. At the merge this file's body becomes
//     #include "pcj/outcome.hpp"   and   the OutcomeHandler of outbox.hpp,
// and nothing else changes: StreamManagement uses only these names.
#pragma once

#include <chrono>
#include <functional>

#include "pcj/events.hpp"

namespace pcj {

enum class Delivery { queued, sent, acked, failed, dropped };

struct Outcome {
    Delivery status;
    Reason reason;
    std::chrono::milliseconds waited;
};

} // namespace pcj

namespace pcj::detail {

using OutcomeHandler = std::function<void(const Outcome&)>;

} // namespace pcj::detail
