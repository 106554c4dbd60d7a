// The options every pcj command shares, and how they become a pcj::Config.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <pcj/pcj.hpp>

namespace CLI {
class App;
}

namespace pcjtool {

// The documented exit codes (doc/tool.md, doc/pcj.1.scd).
enum Exit : int {
    ok = 0,
    failed = 1,  // the request failed: an error reply, a stanza not sent or not acknowledged
    usage = 2,   // a bad option or config file
    network = 3, // DNS, a refused or lost connection
    tls = 4,     // TLS failed: an untrusted or wrong certificate, a handshake error
    auth = 5,    // authentication (or resource binding) was refused
    stream = 6,  // the server ended the stream with a stream error
    timeout = 7, // --timeout passed, or the server did not answer in time
};

struct CommonOptions {
    std::string type; // xmpp | legacy | j14 | j2
    std::string jid;
    std::string domain;
    std::string user;
    std::string resource;
    std::string bind;
    std::string host;
    int port = 0;
    std::string ca_file;
    std::string tls;
    bool allow_plaintext = false;
    std::vector<std::string> dns_servers;
    double timeout = 30;
    bool debug = false;
    std::string config_file;
    std::string profile;
    std::string password_file;
};

// Adds the common options to `app` (the top-level app: subcommands fall through to it).
void add_common_options(CLI::App& app, CommonOptions& options);

// What a command runs with.
struct Setup {
    pcj::Config config;
    bool client = true; // XMPP or LEGACY
    // --debug, or debug = true in the config file: the tool prints the wire itself, with
    // credentials masked, instead of the library's unmasked debug log.
    bool debug = false;
    std::string config_used; // the config file read, "" for none
};

// The config file (--config, or the default one when it exists) and profile, then the command
// line on top, then the password. Throws pcj::ConfigError (bad file or values) and
// std::runtime_error (no password to be had).
Setup make_setup(const CLI::App& app, const CommonOptions& options);

// $XDG_CONFIG_HOME/pcj/config.toml, else ~/.config/pcj/config.toml.
std::string default_config_path();

} // namespace pcjtool
