// <stream:error/>: recognising one and reading its condition and text.
#pragma once

#include <string_view>

#include "pcj/events.hpp"
#include "pcj/node.hpp"

namespace pcj::detail {

inline constexpr std::string_view ns_streams = "urn:ietf:params:xml:ns:xmpp-streams";

// The condition and text of a <stream:error/> (RFC 6120 §4.9), as a Reason with op "stream".
Reason stream_error_reason(const Node& error);
bool is_stream_error(const Node& node);

} // namespace pcj::detail
