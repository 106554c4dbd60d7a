/// @file
/// Outcome: what became of one stanza handed to Component::output(node, callback).
#pragma once

#include <chrono>
#include <functional>
#include <string_view>

#include "pcj/events.hpp"
#include "pcj/export.hpp"

namespace pcj {

/// The stages of a stanza. `queued` and `sent` are progress; the final report is exactly one of
/// `sent` (no stream management on the connection: nothing more will be known), `acked` (the
/// server acknowledged it, XEP-0198), `failed` (refused: never written) or `dropped` (taken out
/// of the queue unwritten, or written but not acknowledged and not resent). See
/// doc/unattended.md.
enum class Delivery {
    queued,  ///< waiting in pcj's queue (progress)
    sent,    ///< written to the connection (progress, or final without stream management)
    acked,   ///< acknowledged by the server (XEP-0198; final)
    failed,  ///< refused, never written (final)
    dropped, ///< taken out of the queue unwritten, or written and lost unacknowledged (final)
};
/// The stage's name ("acked").
PCJ_EXPORT std::string_view to_string(Delivery delivery);

/// One report about one stanza, given to the callback of Component::output(node, callback).
struct PCJ_EXPORT Outcome {
    Delivery status = Delivery::queued; ///< the stage reached
    Reason reason; ///< why, for failed and dropped (condition "queue-full", …); empty otherwise
    /// How long the stanza waited in pcj's queue (until READY, purge_queue() or the send rate
    /// limit let it go), measured when it was written; zero for one written at once.
    std::chrono::milliseconds waited{0};
};

/// What Component::output(node, callback) calls with each report.
using OutcomeCallback = std::function<void(const Outcome&)>;

} // namespace pcj
