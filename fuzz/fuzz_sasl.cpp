// The SASL exchange fed a hostile server's <challenge/>, <success/> and <failure/> elements,
// for each mechanism pcj knows. The first byte picks the mechanism and whether the stream is
// encrypted (channel binding on offer); the rest is the server's elements.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fake_host.hpp"
#include "sasl_exchange.hpp"
#include "xml_stream.hpp"

namespace {

using namespace pcj;

// Only what SaslExchange uses is live; the rest is never called by it.
class SaslHost final : public detail::ProtocolHost {
public:
    explicit SaslHost(const Config& c, bool encrypted) : config_(c), encrypted_(encrypted) {}
    const Config& config() const override { return config_; }
    void send_stream_header() override {}
    void send(const Node& node) override { sent_ += node.to_string(); }
    std::string request(Node, Handler) override { return {}; }
    void emit(std::string_view, const Reason*, const Node*) override {}
    void emit(std::string_view, const Payload&, const Node*, const Reason*) override {}
    bool wanted(std::string_view) const override { return true; }
    void set_jid(std::string) override {}
    void start_tls() override {}
    bool encrypted() const override { return encrypted_; }
    std::pair<std::string, std::string> channel_binding() const override {
        return encrypted_
                   ? std::pair<std::string, std::string>{"tls-exporter", std::string(32, 'b')}
                   : std::pair<std::string, std::string>{};
    }
    void ready() override {}
    void fail(std::string_view, Reason) override { ended_ = true; }
    void log(LogLevel, std::string_view) override {}
    bool current() const override { return !ended_; }

private:
    const Config& config_;
    bool encrypted_;
    bool ended_ = false;
    std::string sent_;
};

Node mechanisms_node() {
    Node m("mechanisms", std::string(detail::ns_sasl));
    for (const auto& name : detail::SaslClient::preference())
        m.add_child("mechanism").add_text(name);
    return m;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Config base = fuzz::fuzz_config(ConnectionType::XMPP);
    static const Node mechanisms = mechanisms_node();
    static const auto preference = detail::SaslClient::preference();
    if (size == 0 || preference.empty())
        return 0;
    Config config = base;
    config.sasl.mechanisms = {preference[data[0] % preference.size()]};
    SaslHost host(config, (data[0] & 0x80) != 0);
    detail::SaslExchange exchange(host, "server");
    Reason why;
    if (exchange.start(mechanisms, host.channel_binding(), &why) ==
        detail::SaslExchange::Outcome::failed)
        return 0;
    bool over = false;
    detail::XmlStream::Callbacks cb;
    cb.on_stanza = [&](const Node& node) {
        if (over || !host.current())
            return;
        Reason r;
        if (exchange.handle(node, &r) != detail::SaslExchange::Outcome::pending)
            over = true;
    };
    detail::XmlStream xml(std::move(cb), 64 * 1024, 16);
    xml.feed("<s xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>");
    xml.feed(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
    return 0;
}
