// How `pcj watch` prints an event: one text line, or one JSON object per line.
#pragma once

#include <string>

#include <pcj/pcj.hpp>

namespace pcjtool {

// The per-read and per-write events and the per-element duplicates of PCJ_NODERECEIVED, which
// watch leaves out unless --all-events is given.
bool noisy(std::string_view event);

// {"time": "...Z", "event": NAME, "reason": {...} | null, "stanza": XML | null} plus "xpath"
// for a filter match; the stanza with credentials masked.
std::string json_line(const pcj::Event& e);

// "TIME NAME [reason] XML".
std::string text_line(const pcj::Event& e);

} // namespace pcjtool
