// source_c2s: the stanza source's XMPP client-to-server sink (stanza_source --mode c2s).
#pragma once

#include <string>

#include "source_io.hpp"

namespace bench {

struct C2sOptions {
    std::string domain;
    std::string password; // SASL PLAIN's password must equal it
    bool offer_sm = false;
};

// Logs the client in without TLS (SASL PLAIN, bind; stream management when offered and asked
// for), then counts its stanzas, answering every <r/> with <a h/>, until </stream:stream>.
Result run_c2s(Peer& peer, const C2sOptions& options, double deadline);

} // namespace bench
