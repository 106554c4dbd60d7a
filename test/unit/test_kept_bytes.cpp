// KeptBytes: stream management's unacknowledged bytes, held against a plain model (a deque of
// strings) under random pushes, pops, reads and clears, with stanzas of every size around the
// block's.
#include <catch2/catch.hpp>

#include <cstddef>
#include <deque>
#include <random>
#include <string>

#include "kept_bytes.hpp"

using pcj::detail::KeptBytes;

namespace {

// Every stanza the model holds, read back in order, must be the bytes pushed.
void check_all(const KeptBytes& kept, const std::deque<std::string>& model) {
    KeptBytes::Reader reader(kept);
    for (const std::string& s : model)
        REQUIRE(reader.next(s.size()) == s);
    CHECK(kept.empty() == model.empty());
}

std::string stanza(std::mt19937& rng, std::size_t size) {
    std::string s(size, '\0');
    for (char& c : s)
        c = static_cast<char>('a' + rng() % 26);
    return s;
}

} // namespace

TEST_CASE("KeptBytes holds nothing until a stanza is pushed, and nothing once released",
          "[kept_bytes]") {
    KeptBytes kept;
    CHECK(kept.empty());
    CHECK_FALSE(kept.holds_memory());
    kept.push("<message/>");
    CHECK_FALSE(kept.empty());
    CHECK(kept.holds_memory());
    kept.pop_front(10);
    CHECK(kept.empty());
    CHECK(kept.holds_memory()); // the block stays for the next stanzas
    kept.push("<presence/>");
    check_all(kept, {"<presence/>"});
    kept.clear();
    kept.release();
    CHECK(kept.empty());
    CHECK_FALSE(kept.holds_memory());
}

TEST_CASE("KeptBytes keeps each stanza whole across blocks, a long one in a block of its own",
          "[kept_bytes]") {
    KeptBytes kept;
    std::mt19937 rng(7);
    std::deque<std::string> model;
    // Three stanzas that do not fit in one block together, then one longer than a block.
    for (std::size_t size : {KeptBytes::kBlock / 2, KeptBytes::kBlock / 2 + 1,
                             KeptBytes::kBlock - 1, 3 * KeptBytes::kBlock, std::size_t{5}}) {
        model.push_back(stanza(rng, size));
        kept.push(model.back());
        check_all(kept, model);
    }
    while (!model.empty()) {
        kept.pop_front(model.front().size());
        model.pop_front();
        check_all(kept, model);
    }
}

TEST_CASE("KeptBytes matches a deque of strings under random pushes, pops and clears",
          "[kept_bytes]") {
    std::mt19937 rng(GENERATE(1u, 2u, 3u, 4u));
    KeptBytes kept;
    std::deque<std::string> model;
    for (int step = 0; step < 4000; ++step) {
        const unsigned what = rng() % 100;
        if (what < 55) {
            // Mostly stanza-sized, sometimes near or over a block.
            const std::size_t size =
                rng() % 10 == 0 ? rng() % (2 * KeptBytes::kBlock) + 1 : rng() % 900 + 1;
            model.push_back(stanza(rng, size));
            kept.push(model.back());
        } else if (what < 97) {
            const std::size_t n = model.empty() ? 0 : rng() % (model.size() + 1);
            for (std::size_t i = 0; i < n; ++i) {
                kept.pop_front(model.front().size());
                model.pop_front();
            }
        } else {
            kept.clear();
            model.clear();
            if (rng() % 2 == 0)
                kept.release();
        }
        if (step % 50 == 0)
            check_all(kept, model);
    }
    check_all(kept, model);
}
