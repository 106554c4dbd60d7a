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

// "TIME NAME [reason] XML", on one line (see one_line).
std::string text_line(const pcj::Event& e);

// XML as written by Node, on one line: line breaks (only ever in text and attribute values)
// become the character references &#10; and &#13;, which read back as the same characters.
std::string one_line(std::string xml);

} // namespace pcjtool
