// Realistic stanzas for the benchmarks: chat, groupchat, subject, receipts, presence and iq mix.
#include "stanzas.hpp"

#include <array>
#include <cstdio>
#include <string_view>

namespace bench {

namespace {

// xorshift32: deterministic across platforms, unlike std::uniform_int_distribution.
class Rng {
public:
    explicit Rng(std::uint32_t seed) : state_(seed == 0 ? 1 : seed) {}
    std::uint32_t next() {
        state_ ^= state_ << 13;
        state_ ^= state_ >> 17;
        state_ ^= state_ << 5;
        return state_;
    }
    std::size_t below(std::size_t n) { return next() % n; }

private:
    std::uint32_t state_;
};

// Bodies as people write them: entities, quotes, accents, CJK, emoji.
constexpr std::array<std::string_view, 12> bodies = {
    "Art thou not Romeo, and a Montague?",
    "Neither, fair saint, if either thee dislike &amp; more.",
    "Ça va ? On se voit à l&apos;école demain, d&apos;accord ?",
    "Grüße aus München — bis später!",
    "日本語のメッセージです。よろしく。",
    "if (a &lt; b &amp;&amp; c &gt; d) { return &quot;ok&quot;; }",
    "Meeting moved to 15:30, room 4 ☕",
    "Привет! Как дела?",
    "ok 👍",
    "The build is green again; merging now.",
    "¿Dónde está la biblioteca? Está allí.",
    "Ἐν ἀρχῇ ἦν ὁ λόγος",
};

constexpr std::array<std::string_view, 6> states = {"active", "composing", "paused",
                                                    "active", "inactive",  "active"};

constexpr std::array<std::string_view, 5> langs = {"en", "fr", "de", "ja", "es"};

std::string hex_id(Rng& rng, int words) {
    std::string out;
    char buf[9];
    for (int i = 0; i < words; ++i) {
        std::snprintf(buf, sizeof buf, "%08x", rng.next());
        out += buf;
    }
    return out;
}

void chat(std::string& out, Rng& rng, std::size_t index, const std::string& domain) {
    const std::size_t user = rng.below(1000);
    out += "<message from='user" + std::to_string(user) + "@example.net/phone' to='svc" +
           std::to_string(rng.below(100)) + "@" + domain + "' type='chat' id='c" +
           std::to_string(index) + "' xml:lang='" + std::string(langs[rng.below(langs.size())]) +
           "'><body>";
    out += bodies[rng.below(bodies.size())];
    out += "</body><thread>" + hex_id(rng, 2) + "</thread><";
    out += states[rng.below(states.size())];
    out += " xmlns='http://jabber.org/protocol/chatstates'/><request xmlns='urn:xmpp:receipts'/>"
           "</message>";
}

void groupchat(std::string& out, Rng& rng, std::size_t index, const std::string& domain) {
    const std::string room = "room" + std::to_string(rng.below(20)) + "@conference.example.net";
    out += "<message from='" + room + "/nick" + std::to_string(rng.below(50)) + "' to='svc" +
           std::to_string(rng.below(100)) + "@" + domain + "' type='groupchat' id='g" +
           std::to_string(index) + "'><body>";
    out += bodies[rng.below(bodies.size())];
    out += "</body><stanza-id xmlns='urn:xmpp:sid:0' id='" + hex_id(rng, 3) + "' by='" + room +
           "'/></message>";
}

void subject(std::string& out, Rng& rng, std::size_t index, const std::string& domain) {
    const std::string room = "room" + std::to_string(rng.below(20)) + "@conference.example.net";
    out += "<message from='" + room + "/chair' to='svc" + std::to_string(rng.below(100)) + "@" +
           domain + "' type='groupchat' id='s" + std::to_string(index) +
           "' xml:lang='en'><subject>Weekly sync &amp; release planning — «v2.1»</subject>"
           "<thread>" +
           hex_id(rng, 2) + "</thread></message>";
}

void receipt(std::string& out, Rng& rng, std::size_t index, const std::string& domain) {
    out += "<message from='user" + std::to_string(rng.below(1000)) +
           "@example.net/laptop' to='svc" + std::to_string(rng.below(100)) + "@" + domain +
           "' id='r" + std::to_string(index) + "'><received xmlns='urn:xmpp:receipts' id='c" +
           std::to_string(rng.below(1000000)) +
           "'/><store xmlns='urn:xmpp:hints'/><body>✓ delivered</body></message>";
}

void presence(std::string& out, Rng& rng, const std::string& domain) {
    out += "<presence from='user" + std::to_string(rng.below(1000)) +
           "@example.net/phone' to='svc" + std::to_string(rng.below(100)) + "@" + domain +
           "'><show>away</show><status>Out to lunch 🍜</status><c "
           "xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://pcj.example' "
           "ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>";
}

void iq_result(std::string& out, Rng& rng, std::size_t index, const std::string& domain) {
    out += "<iq type='result' from='example.net' to='svc" + std::to_string(rng.below(100)) + "@" +
           domain + "' id='q" + std::to_string(index) + "'/>";
}

} // namespace

bool is_message_index(std::size_t index, bool mix) {
    return !mix || (index % 10 != 9 && index % 20 != 4);
}

StanzaBlock generate_stanzas(std::size_t count, const StanzaOptions& options) {
    StanzaBlock block;
    Rng rng(options.seed);
    block.ends.reserve(count);
    block.bytes.reserve(count * 280);
    for (std::size_t i = 0; i < count; ++i) {
        if (!is_message_index(i, options.mix)) {
            if (i % 10 == 9) {
                presence(block.bytes, rng, options.domain);
            } else {
                iq_result(block.bytes, rng, i, options.domain);
            }
        } else {
            ++block.messages;
            const std::size_t kind = rng.below(100);
            if (kind < 50) {
                chat(block.bytes, rng, i, options.domain);
            } else if (kind < 80) {
                groupchat(block.bytes, rng, i, options.domain);
            } else if (kind < 90) {
                subject(block.bytes, rng, i, options.domain);
            } else {
                receipt(block.bytes, rng, i, options.domain);
            }
        }
        block.ends.push_back(block.bytes.size());
    }
    return block;
}

std::string end_marker(const std::string& domain) {
    return "<iq type='result' from='example.net' to='" + domain + "' id='bench-end'/>";
}

} // namespace bench
