// JIDs as strings: their parts, XMPP's comparison, and who may answer a request.
#pragma once

#include <string>
#include <string_view>

namespace pcj::detail {

// "node@domain/resource" → "node@domain" and "domain".
std::string bare_of(std::string_view jid);
std::string domain_of(std::string_view jid);
// JIDs compared as XMPP compares them, simplified to ASCII: node and domain without regard to
// case, the resource exactly.
bool same_jid(std::string_view a, std::string_view b);

// Whether a reply from `from` (empty: no 'from') answers a request sent to `asked` (empty: no
// 'to') by `self` (our full JID, or a component's domain). RFC 6120 §10.3.3: a request to no
// 'to', to our own bare JID or to our server is answered by the server on the account's
// behalf, so no 'from', our bare or full JID, or our domain all count as that server; any other
// request must be answered by the very address it went to.
bool reply_sender_matches(std::string_view asked, std::string_view from, std::string_view self);

} // namespace pcj::detail
