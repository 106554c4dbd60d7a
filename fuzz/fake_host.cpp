// FakeHost: what the core does for a protocol module, minus the socket, TLS and timers.
#include "fake_host.hpp"

#include <algorithm>

namespace pcj::fuzz {

Config fuzz_config(ConnectionType type) {
    Config c;
    c.connection_type = type;
    c.ip = "127.0.0.1";
    c.port = 5222;
    c.hostname = type == ConnectionType::JABBERD14_COMPONENT ? "component.localhost" : "localhost";
    c.username = "user";
    c.password = "pass";
    c.resource = "res";
    c.tls.policy = TlsPolicy::optional;
    c.sasl.allow_plaintext_password = true;
    c.max_stanza_size = 64 * 1024;
    c.sasl.max_scram_iterations = 64;
    c.validate_and_complete();
    return c;
}

FakeHost::FakeHost(Config config) : config_(std::move(config)) {
    detail::XmlStream::Callbacks cb;
    cb.on_stream_start = [this](Node header) {
        if (!ended_ && negotiating_)
            protocol_->on_stream_start(header);
    };
    cb.on_stanza = [this](const Node& node) {
        on_stanza(node);
    };
    cb.on_stream_end = [this] {
        if (!ended_ && negotiating_)
            protocol_->on_stream_end();
        ended_ = true;
    };
    cb.on_error = [this](const Reason&) {
        ended_ = true;
    };
    xml_ = std::make_unique<detail::XmlStream>(std::move(cb), config_.max_stanza_size,
                                               config_.max_depth);
    protocol_ = detail::make_protocol(*config_.connection_type, *this);
}

FakeHost::~FakeHost() = default;

// The split string's bytes are the sizes of the successive reads (0 means 256), so the
// fuzzer controls where the stream is cut; the last size repeats.
void FakeHost::run(std::string_view wire, std::string_view splits) {
    protocol_->on_connected();
    std::size_t k = 0;
    while (!wire.empty() && !ended_) {
        std::size_t n = 256;
        if (!splits.empty()) {
            const auto b = static_cast<unsigned char>(splits[std::min(k, splits.size() - 1)]);
            n = b == 0 ? 256 : b;
        }
        ++k;
        n = std::min(n, wire.size());
        xml_->feed(wire.substr(0, n));
        wire.remove_prefix(n);
        if (tls_pending_ && !ended_) {
            tls_pending_ = false;
            protocol_->on_tls_established();
        }
    }
    if (!ended_ && negotiating_)
        protocol_->on_connection_lost(Reason{"read", 0, "end of file", "end of input"});
}

void FakeHost::on_stanza(const Node& node) {
    if (ended_)
        return;
    const std::string* id = node.find_attr("id");
    if (id != nullptr) {
        const auto it = requests_.find(*id);
        if (it != requests_.end()) {
            Handler h = std::move(it->second);
            requests_.erase(it);
            Event event;
            event.name = "rts";
            event.node = &node;
            h(event);
            return;
        }
    }
    if (negotiating_)
        protocol_->on_node(node);
}

void FakeHost::send_stream_header() {
    if (ended_)
        return;
    sent_.append("<stream:stream>");
    xml_->reset();
}

void FakeHost::send(const Node& node) {
    if (!ended_)
        node.append_to(sent_);
}

std::string FakeHost::request(Node node, Handler on_reply) {
    std::string id = "r" + std::to_string(++next_id_);
    node.set_attr("id", id);
    send(node);
    requests_.insert_or_assign(id, std::move(on_reply));
    return id;
}

void FakeHost::emit(std::string_view, const Reason*, const Node*) {}

void FakeHost::emit(std::string_view, const Payload&, const Node*, const Reason*) {}

// TLS "succeeds" at once: the rest of the input is what the server says inside it.
void FakeHost::start_tls() {
    if (ended_)
        return;
    encrypted_ = true;
    tls_pending_ = true;
    xml_->reset();
}

std::pair<std::string, std::string> FakeHost::channel_binding() const {
    if (!encrypted_)
        return {};
    return {"tls-exporter", std::string(32, '\x5a')};
}

void FakeHost::ready() {
    ready_ = true;
    negotiating_ = false;
}

void FakeHost::fail(std::string_view, Reason) {
    ended_ = true;
}

} // namespace pcj::fuzz
