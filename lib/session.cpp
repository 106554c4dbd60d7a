// SessionKeeper: the session state of seeds/002, the roster and the session's own presence.
#include "session.hpp"

#include "component_impl.hpp"

namespace pcj {

void Session::send(Node node) {
    impl_.output(std::move(node));
}

void Session::close() {
    impl_.shutdown();
}

void Session::close(Reason reason) {
    impl_.shutdown(&reason);
}

} // namespace pcj

namespace pcj::detail {

SessionKeeper::SessionKeeper(ComponentImpl& impl) : impl_(impl), session_(impl) {}

void SessionKeeper::on_connect() {}
void SessionKeeper::on_stream_open(const Node& header) {
    (void)header;
}
void SessionKeeper::on_authenticated() {}
void SessionKeeper::on_bound(const std::string& jid) {
    (void)jid;
}
void SessionKeeper::on_ready() {}
void SessionKeeper::on_outbound(const Node& stanza) {
    (void)stanza;
}
bool SessionKeeper::on_inbound(const Node& stanza) {
    (void)stanza;
    return false;
}
void SessionKeeper::on_closed() {}

} // namespace pcj::detail
