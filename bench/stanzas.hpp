// Realistic stanzas for the benchmarks: chat, groupchat, subject, receipts, presence and iq mix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bench {

// The component domain every generated stanza is addressed to (to='svcK@DOMAIN').
struct StanzaOptions {
    std::string domain = "bench.localhost";
    bool mix = false; // every 10th stanza a presence, every 20th an iq result
    std::uint32_t seed = 20240601;
};

struct StanzaBlock {
    std::string bytes;             // the stanzas back to back, as written on the wire
    std::vector<std::size_t> ends; // offset just past each stanza in bytes
    std::size_t messages = 0;      // how many of them are <message/>
};

// Generates `count` stanzas, ≈ 260 bytes on average (entities and multi-byte UTF-8 in the
// bodies). Deterministic for a given seed, so every client sees the same stream.
StanzaBlock generate_stanzas(std::size_t count, const StanzaOptions& options);

// Whether stanza number `index` (0-based) of a generated stream is a <message/>.
bool is_message_index(std::size_t index, bool mix);

// What follows the last stanza: an unsolicited iq result that every library ignores, so a
// client that wants an in-band end marker can watch for id='bench-end'.
std::string end_marker(const std::string& domain);

} // namespace bench
