// Node serialisation round trips: whatever Node::parse accepts, to_string() writes as XML that
// parses back to an equal Node, and writing that again gives the same text.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pcj/error.hpp"
#include "pcj/node.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    pcj::Node node;
    try {
        node = pcj::Node::parse(std::string_view(reinterpret_cast<const char*>(data), size));
    } catch (const pcj::Error&) {
        return 0;
    }
    const std::string first = node.to_string();
    pcj::Node again;
    try {
        again = pcj::Node::parse(first);
    } catch (const pcj::Error&) {
        std::abort(); // what pcj writes, pcj must read
    }
    if (again.to_string() != first)
        std::abort();
    if (!(again == node))
        std::abort();
    return 0;
}
