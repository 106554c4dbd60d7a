// <stream:error/> (RFC 6120 §4.9) read into a Reason.
#include "stream_error.hpp"

namespace pcj::detail {

bool is_stream_error(const Node& node) {
    return node.local_name() == "error" && node.prefix() == "stream";
}

Reason stream_error_reason(const Node& error) {
    Reason reason;
    reason.op = "stream";
    for (const Node* child : error.elements()) {
        if (child->local_name() == "text") {
            reason.text = child->text();
        } else if (reason.condition.empty() && child->ns() == ns_streams) {
            reason.condition = std::string(child->local_name());
        }
    }
    if (reason.condition.empty()) {
        reason.condition = "undefined-condition";
    }
    if (reason.text.empty()) {
        reason.text = "the server sent a stream error: " + reason.condition;
    }
    return reason;
}

} // namespace pcj::detail
