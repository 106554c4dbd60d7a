// A connection type's negotiation fed a hostile server's side from the first byte. Built once
// per connection type, with FUZZ_CONNECTION_TYPE naming it.
#include <cstdint>
#include <cstdlib>

#include "fake_host.hpp"
#include "input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const pcj::Config config =
        pcj::fuzz::fuzz_config(pcj::ConnectionType::FUZZ_CONNECTION_TYPE);
    const auto in = pcj::fuzz::split_input(data, size);
    pcj::fuzz::FakeHost host(config);
    host.run(in.payload, in.splits);
    // READY is reached only through a complete negotiation, never after the connection ended.
    if (host.is_ready() && host.sent().empty())
        std::abort();
    return 0;
}
