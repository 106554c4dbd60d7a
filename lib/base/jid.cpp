// JIDs as strings.
#include "jid.hpp"

#include <algorithm>
#include <cctype>

namespace pcj::detail {

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// The request went to our account or our server: the server answers on the account's behalf.
bool asked_own_side(std::string_view asked, std::string_view self) {
    return asked.empty() || same_jid(asked, bare_of(self)) || same_jid(asked, self) ||
           same_jid(asked, domain_of(self));
}

} // namespace

std::string bare_of(std::string_view jid) {
    return std::string(jid.substr(0, jid.find('/')));
}

std::string domain_of(std::string_view jid) {
    std::string_view bare = jid.substr(0, jid.find('/'));
    const auto at = bare.find('@');
    return std::string(at == std::string_view::npos ? bare : bare.substr(at + 1));
}

bool same_jid(std::string_view a, std::string_view b) {
    const auto sa = a.find('/');
    const auto sb = b.find('/');
    if (lower(a.substr(0, sa)) != lower(b.substr(0, sb))) {
        return false;
    }
    const std::string_view ra = sa == std::string_view::npos ? "" : a.substr(sa);
    const std::string_view rb = sb == std::string_view::npos ? "" : b.substr(sb);
    return ra == rb;
}

bool reply_sender_matches(std::string_view asked, std::string_view from, std::string_view self) {
    if (asked_own_side(asked, self)) {
        return from.empty() || same_jid(from, bare_of(self)) || same_jid(from, self) ||
               same_jid(from, domain_of(self));
    }
    return same_jid(from, asked);
}

} // namespace pcj::detail
