// Wire scripts for ScriptedPeer: the server's side of the logins the protocol tests share.
#include "scripts.hpp"

namespace pcj::test {

std::string bind_result(const std::string& jid) {
    return "<iq type='result' id='$ID'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>" + jid +
           "</jid></bind></iq>";
}

ScriptedPeer& sasl_plain(ScriptedPeer& peer, const std::string& header, const std::string& features,
                         const std::string& next_features, const std::string& auth_end) {
    return peer.expect("<stream:stream")
        .send(header + features)
        .expect(auth_end)
        .send(sasl_success)
        .expect("<stream:stream")
        .send(header + next_features);
}

ScriptedPeer& xmpp_login(ScriptedPeer& peer, const std::string& jid) {
    return sasl_plain(peer, client_header, plain_only, bind_features)
        .expect("</bind></iq>")
        .send(bind_result(jid));
}

ScriptedPeer& handshake(ScriptedPeer& peer) {
    return peer.expect("<stream:stream")
        .send(component_header)
        .expect(expected_handshake)
        .send("<handshake/>");
}

ScriptedPeer& j2_login(ScriptedPeer& peer) {
    return sasl_plain(peer, j2_header, plain_only, "<stream:features/>")
        .expect("<bind")
        .expect("/>")
        .send(j2_bind_result);
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

bool received(const ScriptedPeer& peer, const std::string& text) {
    return contains(peer.all_received(), text);
}

} // namespace pcj::test
