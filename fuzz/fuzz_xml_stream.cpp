// XmlStream fed arbitrary bytes cut at arbitrary points. The events must not depend on where
// the reads are cut: the same bytes fed whole and fed in pieces give the same headers, stanzas
// and stream ends, and the same verdict. After a failure nothing more may be reported. Every
// stanza delivered gets the same answer from plain_parsed_stanza() as from plain_stanza().
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "input.hpp"
#include "xml_stream.hpp"
#include "xpath_index.hpp"

namespace {

struct Trace {
    std::vector<std::string> events;
    bool failed = false;
    bool after_failure = false;
};

Trace parse(std::string_view bytes, std::string_view splits) {
    Trace t;
    pcj::detail::XmlStream::Callbacks cb;
    auto note = [&t](std::string e) {
        if (t.failed)
            t.after_failure = true;
        t.events.push_back(std::move(e));
    };
    cb.on_stream_start = [&](pcj::Node h) {
        note("start " + h.start_tag());
    };
    cb.on_stanza = [&](const pcj::Node& n) {
        // The filters' inbound path trusts the parser for what plain_stanza() checks.
        if (pcj::detail::plain_stanza(n) != pcj::detail::plain_parsed_stanza(n))
            std::abort();
        note(n.to_string());
    };
    cb.on_stream_end = [&] {
        note("end");
    };
    cb.on_error = [&](const pcj::Reason&) {
        if (t.failed)
            t.after_failure = true;
        t.failed = true;
    };
    // Large enough that no input of the fuzzer's length reaches it: the size check counts
    // unparsed bytes, which depends on the cuts.
    pcj::detail::XmlStream xml(std::move(cb), 1 << 20, 64);
    std::size_t k = 0;
    while (!bytes.empty()) {
        std::size_t n = bytes.size();
        if (!splits.empty()) {
            const auto b = static_cast<unsigned char>(splits[std::min(k++, splits.size() - 1)]);
            n = std::min<std::size_t>(b == 0 ? 1 : b, bytes.size());
        }
        const bool ok = xml.feed(bytes.substr(0, n));
        if (ok == xml.failed())
            std::abort(); // feed() says false exactly when the stream has failed
        bytes.remove_prefix(n);
    }
    return t;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto in = pcj::fuzz::split_input(data, size);
    const Trace whole = parse(in.payload, {});
    const Trace cut = parse(in.payload, in.splits);
    if (whole.after_failure || cut.after_failure)
        std::abort();
    // A failure may come earlier or later relative to the cuts (an unfinished construct is only
    // an error once more bytes show it), so compare what both delivered.
    const std::size_t common = std::min(whole.events.size(), cut.events.size());
    for (std::size_t i = 0; i < common; ++i) {
        if (whole.events[i] != cut.events[i])
            std::abort();
    }
    if (!whole.failed && !cut.failed && whole.events.size() != cut.events.size())
        std::abort();
    return 0;
}
