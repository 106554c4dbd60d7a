// How the targets read their input: a few leading control bytes, then the payload.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pcj::fuzz {

// The first byte's low four bits say how many bytes after it are read sizes (see
// FakeHost::run); the rest is the payload. A seed written as "\x00" + wire uses 256-byte reads.
struct SplitInput {
    std::string_view splits;
    std::string_view payload;
};

inline SplitInput split_input(const std::uint8_t* data, std::size_t size) {
    std::string_view all(reinterpret_cast<const char*>(data), size);
    if (all.empty())
        return {};
    const std::size_t k =
        std::min<std::size_t>(static_cast<unsigned char>(all[0]) & 0x0f, all.size() - 1);
    return {all.substr(1, k), all.substr(1 + k)};
}

} // namespace pcj::fuzz
