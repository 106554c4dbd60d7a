// The common options: CLI11 declarations with their checks, and the Config they make.
#include "options.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

namespace pcjtool {

void add_common_options(CLI::App& app, CommonOptions& o) {
    // An option given twice takes its last value, so a script can override an earlier one.
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.add_option("--type", o.type, "connection type (default: the config file's, else xmpp)")
        ->check(CLI::IsMember({"xmpp", "legacy", "j14", "j2"}))
        ->group("Connection");
    app.add_option("--jid", o.jid, "client address: user@domain[/resource]")->group("Connection");
    app.add_option("--domain", o.domain, "component domain (or a client's domain)")
        ->group("Connection");
    app.add_option("--user", o.user, "user name (jabberd2 router user for j2)")
        ->group("Connection");
    app.add_option("--resource", o.resource, "client resource")->group("Connection");
    app.add_option("--bind", o.bind, "j2: the domain to bind (default USER.DOMAIN)")
        ->group("Connection");
    app.add_option("--host", o.host, "server host name or address (client default: DNS SRV)")
        ->group("Connection");
    app.add_option("--port", o.port, "server port")
        ->check(CLI::Range(1, 65535))
        ->group("Connection");
    app.add_option("--ca-file", o.ca_file, "trust the CA certificates in this PEM file")
        ->check(CLI::ExistingFile)
        ->group("Connection");
    app.add_option("--tls", o.tls, "TLS policy")
        ->check(CLI::IsMember({"required", "optional", "disabled", "direct"}))
        ->group("Connection");
    app.add_flag("--allow-plaintext", o.allow_plaintext,
                 "allow a password over an unencrypted stream")
        ->group("Connection");
    app.add_option("--dns-server", o.dns_servers,
                   "ask this DNS server (ADDRESS[:PORT]; repeatable)")
        ->group("Connection");
    app.add_option("--timeout", o.timeout, "seconds to connect and get an answer")
        ->check(CLI::Range(0.1, 86400.0))
        ->capture_default_str()
        ->group("Connection");
    app.add_flag("--debug", o.debug, "print every element sent and received (credentials masked)");
    app.add_option("--config", o.config_file,
                   "config file (default: ~/.config/pcj/config.toml when it exists)")
        ->check(CLI::ExistingFile)
        ->group("Config");
    app.add_option("--profile", o.profile, "profile of the config file ([profile.NAME])")
        ->group("Config");
    app.add_option("--password-file", o.password_file,
                   "read the password from the first line of this file")
        ->check(CLI::ExistingFile)
        ->group("Config");
}

std::string default_config_path() {
    if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg == '/') {
        return std::string(xdg) + "/pcj/config.toml";
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        return std::string(home) + "/.config/pcj/config.toml";
    }
    return "";
}

namespace {

pcj::ConnectionType type_named(const std::string& name) {
    if (name == "legacy") {
        return pcj::ConnectionType::LEGACY;
    }
    if (name == "j14") {
        return pcj::ConnectionType::JABBERD14_COMPONENT;
    }
    if (name == "j2") {
        return pcj::ConnectionType::JABBERD20_COMPONENT;
    }
    return pcj::ConnectionType::XMPP;
}

pcj::TlsPolicy policy_named(const std::string& name) {
    if (name == "optional") {
        return pcj::TlsPolicy::optional;
    }
    if (name == "disabled") {
        return pcj::TlsPolicy::disabled;
    }
    if (name == "direct") {
        return pcj::TlsPolicy::direct;
    }
    return pcj::TlsPolicy::required;
}

void apply_jid(const std::string& jid, pcj::Config& config) {
    const auto at = jid.find('@');
    const auto slash = jid.find('/', at == std::string::npos ? 0 : at);
    if (at == std::string::npos || at == 0 || at + 1 >= jid.size() || slash == at + 1) {
        throw pcj::ConfigError("--jid: '" + jid + "' is not user@domain[/resource]");
    }
    config.username = jid.substr(0, at);
    config.hostname =
        jid.substr(at + 1, slash == std::string::npos ? std::string::npos : slash - at - 1);
    if (slash != std::string::npos) {
        config.resource = jid.substr(slash + 1);
    }
}

std::string first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line)) {
        throw pcj::ConfigError("--password-file: cannot read " + path);
    }
    return line;
}

// Asks on the terminal without echo; "" when there is no terminal.
std::string prompt_password(const std::string& who) {
    FILE* tty = std::fopen("/dev/tty", "r+");
    if (tty == nullptr) {
        return "";
    }
    std::fprintf(tty, "Password for %s: ", who.c_str());
    std::fflush(tty);
    termios old{};
    const bool termios_ok = ::tcgetattr(fileno(tty), &old) == 0;
    if (termios_ok) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    }
    char buf[1024];
    std::string line;
    if (std::fgets(buf, sizeof buf, tty) != nullptr) {
        line = buf;
    }
    if (termios_ok) {
        ::tcsetattr(fileno(tty), TCSAFLUSH, &old);
    }
    std::fprintf(tty, "\n");
    std::fclose(tty);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.pop_back();
    }
    return line;
}

bool given(const CLI::App& app, const char* name) {
    return app.get_option(name)->count() > 0;
}

} // namespace

Setup make_setup(const CLI::App& app, const CommonOptions& o) {
    Setup setup;
    std::string file = o.config_file;
    if (file.empty()) {
        struct stat st {};
        const std::string fallback = default_config_path();
        if (!fallback.empty() && ::stat(fallback.c_str(), &st) == 0) {
            file = fallback;
        }
    }
    if (!file.empty()) {
        setup.config = pcj::load_config(file, o.profile);
        setup.config_used = file;
    } else if (!o.profile.empty()) {
        throw pcj::ConfigError("--profile: no config file (give --config FILE or create " +
                               default_config_path() + ")");
    }
    pcj::Config& c = setup.config;
    if (c.alias == pcj::Config{}.alias) {
        c.alias = "pcj"; // the name in pcj's log lines, unless the file gives one
    }
    if (given(app, "--type") || !c.connection_type) {
        c.connection_type = type_named(o.type);
    }
    const auto type = *c.connection_type;
    setup.client = type == pcj::ConnectionType::XMPP || type == pcj::ConnectionType::LEGACY;
    if (!o.jid.empty()) {
        if (!setup.client) {
            throw pcj::ConfigError("--jid: a component has no JID; use --domain");
        }
        apply_jid(o.jid, c);
    }
    if (!o.domain.empty()) {
        c.hostname = o.domain;
    }
    if (!o.user.empty()) {
        c.username = o.user;
    }
    if (!o.resource.empty()) {
        c.resource = o.resource;
    }
    if (!o.bind.empty()) {
        c.bind_domain = o.bind;
    }
    if (!o.host.empty()) {
        c.ip = o.host;
    }
    if (given(app, "--port")) {
        c.port = static_cast<std::uint16_t>(o.port);
    }
    if (!o.ca_file.empty()) {
        c.tls.ca_file = o.ca_file;
    }
    if (!o.tls.empty()) {
        c.tls.policy = policy_named(o.tls);
    }
    setup.debug = o.debug || c.debug;
    c.debug = false;
    if (o.allow_plaintext) {
        c.sasl.allow_plaintext_password = true;
    }
    if (!o.dns_servers.empty()) {
        c.dns.servers = o.dns_servers;
    }
    // Messages name the option a user gives, not Config's field.
    if (c.hostname.empty()) {
        throw pcj::ConfigError(setup.client ? "--jid: required (user@domain)"
                                            : "--domain: required (the component's domain)");
    }
    if (!setup.client && c.ip.empty()) {
        throw pcj::ConfigError("--host: required for a component");
    }
    if (setup.client && !c.ip.empty() && c.port == 0) {
        c.port = c.tls.policy == pcj::TlsPolicy::direct ? 5223 : 5222; // the usual client ports
    }
    if (!c.ip.empty() && c.port == 0) {
        throw pcj::ConfigError("--port: required with --host for a component");
    }
    if (type != pcj::ConnectionType::JABBERD14_COMPONENT && c.username.empty()) {
        throw pcj::ConfigError(setup.client ? "--jid: required (user@domain)"
                                            : "--user: required (the router user)");
    }

    // The password: --password-file, PCJ_PASSWORD, the config file, a prompt on the terminal.
    if (!o.password_file.empty()) {
        c.password = first_line(o.password_file);
    } else if (const char* env = std::getenv("PCJ_PASSWORD"); env != nullptr && *env != '\0') {
        c.password = env;
    }
    if (c.password.empty()) {
        c.password = prompt_password(setup.client ? c.username + "@" + c.hostname : c.hostname);
    }
    if (c.password.empty()) {
        throw pcj::ConfigError(
            "no password: use --password-file, PCJ_PASSWORD, the config file or a terminal");
    }
    return setup;
}

} // namespace pcjtool
