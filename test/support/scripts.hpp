// Wire scripts for ScriptedPeer: the server's side of the logins the protocol tests share.
#pragma once

#include <string>

#include "scripted_peer.hpp"

namespace pcj::test {

// -- XMPP client streams (RFC 6120) ----------------------------------------------------------

// The server's header: jabber:client, version 1.0, id 's1', from 'localhost'.
inline const std::string client_header =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>";
// SASL PLAIN, and nothing else.
inline const std::string plain_only =
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
    "<mechanism>PLAIN</mechanism></mechanisms></stream:features>";
// SASL PLAIN with in-band registration (XEP-0077) advertised beside it.
inline const std::string plain_and_register =
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
    "<mechanism>PLAIN</mechanism></mechanisms>"
    "<register xmlns='http://jabber.org/features/iq-register'/></stream:features>";
// STARTTLS offered, then SASL PLAIN.
inline const std::string starttls_features =
    "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
    "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
    "</mechanisms></stream:features>";
// After SASL: bind alone, or bind and the (RFC 3921) session.
inline const std::string bind_features =
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";
inline const std::string bind_session_features =
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
    "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features>";
inline const std::string sasl_success = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
// base64("\0user\0pass"): the PLAIN credentials of the peer configs.
inline const std::string plain_auth = "AHVzZXIAcGFzcw==";

// The answer to a bind request: the server assigns `jid`.
std::string bind_result(const std::string& jid);

// The SASL PLAIN part of a login: `header` with `features`, the client's <auth/> (read up to
// `auth_end`), <success/>, and the restarted stream with `next_features`.
ScriptedPeer& sasl_plain(ScriptedPeer& peer, const std::string& header, const std::string& features,
                         const std::string& next_features, const std::string& auth_end = "</auth>");

// A whole XMPP login up to READY: PLAIN, then the bind; the server assigns `jid`.
ScriptedPeer& xmpp_login(ScriptedPeer& peer, const std::string& jid = "user@localhost/res");

// -- XEP-0114 components ---------------------------------------------------------------------

// XEP-0114 §3's example: stream id 3BF96D32 and secret "test".
inline const std::string component_header =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
    "xmlns:stream='http://etherx.jabber.org/streams' id='3BF96D32' from='component.localhost'>";
inline const std::string expected_handshake =
    "<handshake>aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e</handshake>";

// A XEP-0114 handshake, accepted; the script goes on with what the test adds.
ScriptedPeer& handshake(ScriptedPeer& peer);

// -- jabberd2 components -----------------------------------------------------------------------

// A jabberd2 router's header (version 1.0, id 'j2sid').
inline const std::string j2_header =
    "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
    "xmlns='http://jabberd.jabberstudio.org/ns/component/1.0' from='localhost' version='1.0' "
    "id='j2sid'>";
// The router's answer to a bind request.
inline const std::string j2_bind_result =
    "<bind xmlns='http://jabberd.jabberstudio.org/ns/component/1.0' id='$ID'/>";

// A whole jabberd2 login up to READY: PLAIN, the restarted stream without features, the bind.
ScriptedPeer& j2_login(ScriptedPeer& peer);

// -- what the peer received --------------------------------------------------------------------

bool contains(const std::string& haystack, const std::string& needle);
bool received(const ScriptedPeer& peer, const std::string& text);

} // namespace pcj::test
