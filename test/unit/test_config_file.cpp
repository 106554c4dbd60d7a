// pcj::load_config: TOML files with profiles become a Config; every error names file, line, key.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

#include "pcj/pcj.hpp"

using namespace pcj;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// The message of the ConfigError that parsing `text` throws ("" when it throws none).
std::string error_of(const std::string& text, std::string_view profile = {}) {
    try {
        (void)parse_config(text, "test.toml", profile);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

// A file in a fresh temporary directory, removed with it.
struct TempFile {
    std::string dir;
    std::string path;
    explicit TempFile(const std::string& text) {
        char tmpl[] = "/tmp/pcj-config-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir = tmpl;
        path = dir + "/pcj.toml";
        std::ofstream(path) << text;
    }
    ~TempFile() {
        std::remove(path.c_str());
        ::rmdir(dir.c_str());
    }
};

const char* every_field = R"(
connection_type = "xmpp"
ip = "127.0.0.1"
port = 5222
hostname = "localhost"
username = "alice"
password = "secret"
resource = "desk"
alias = "alerts"
version = "1.0"
xmlns = "jabber:client"
stream_ns = "http://etherx.jabber.org/streams"
debug = true
bind_retries = 5
roster_fetch = true
bind_domain = "echo.localhost"
bind_option = "log"
connect_timeout = 1500
negotiation_timeout = 2500
shutdown_timeout = 3500
rts_timeout = 4500
max_stanza_size = 65536
duplicate_window = 4096
max_depth = 32
max_attributes = 16
max_namespace_declarations = 8
max_stanza_time = 7000

[tls]
policy = "direct"
verify = false
ca_file = "/etc/ca.pem"
ca_dir = "/etc/cas"
pins = ["sha256:00ff"]
client_cert_file = "/etc/me.pem"
client_key_file = "/etc/me.key"
priority = "NORMAL:-VERS-TLS1.2"

[sasl]
mechanisms = ["SCRAM-SHA-256", "PLAIN"]
authzid = "admin@localhost"
allow_plaintext_password = true
max_scram_iterations = 20000

[dns]
servers = ["127.0.0.1:5353", "[::1]:53"]
timeout = 900
tries = 3
attempt_delay = 100

[reconnect]
enabled = true
initial_delay = 200
min_delay = 50
max_delay = 9000
multiplier = 1.5
max_attempts = 7

[stream_management]
enabled = false
resume = false
ack_every = 1
ack_after = 300

[queue]
max_stanzas = 100
max_bytes = 100000
when_full = "drop_oldest"
flush_at_ready = true

[rate_limit]
stanzas_per_second = 10
bytes_per_second = 2048.5
)";

} // namespace

TEST_CASE("config file: every field of Config can be set", "[config_file]") {
    using namespace std::chrono_literals;
    const Config c = parse_config(every_field, "test.toml");
    CHECK(c.connection_type == ConnectionType::XMPP);
    CHECK(c.ip == "127.0.0.1");
    CHECK(c.port == 5222);
    CHECK(c.hostname == "localhost");
    CHECK(c.username == "alice");
    CHECK(c.password == "secret");
    CHECK(c.resource == "desk");
    CHECK(c.alias == "alerts");
    CHECK(c.version == "1.0");
    CHECK(c.xmlns == "jabber:client");
    CHECK(c.stream_ns == "http://etherx.jabber.org/streams");
    CHECK(c.debug);
    CHECK(c.bind_retries == 5);
    CHECK(c.roster_fetch);
    CHECK(c.bind_domain == "echo.localhost");
    CHECK(c.bind_option == "log");
    CHECK(c.connect_timeout == 1500ms);
    CHECK(c.negotiation_timeout == 2500ms);
    CHECK(c.shutdown_timeout == 3500ms);
    CHECK(c.rts_timeout == 4500ms);
    CHECK(c.max_stanza_size == 65536);
    CHECK(c.duplicate_window == 4096);
    CHECK(c.max_depth == 32);
    CHECK(c.max_attributes == 16);
    CHECK(c.max_namespace_declarations == 8);
    CHECK(c.max_stanza_time == 7000ms);
    CHECK(c.tls.policy == TlsPolicy::direct);
    CHECK_FALSE(c.tls.verify);
    CHECK(c.tls.ca_file == "/etc/ca.pem");
    CHECK(c.tls.ca_dir == "/etc/cas");
    CHECK(c.tls.pins == std::vector<std::string>{"sha256:00ff"});
    CHECK(c.tls.client_cert_file == "/etc/me.pem");
    CHECK(c.tls.client_key_file == "/etc/me.key");
    CHECK(c.tls.priority == "NORMAL:-VERS-TLS1.2");
    CHECK(c.sasl.mechanisms == std::vector<std::string>{"SCRAM-SHA-256", "PLAIN"});
    CHECK(c.sasl.authzid == "admin@localhost");
    CHECK(c.sasl.allow_plaintext_password);
    CHECK(c.sasl.max_scram_iterations == 20000);
    CHECK(c.dns.servers == std::vector<std::string>{"127.0.0.1:5353", "[::1]:53"});
    CHECK(c.dns.timeout == 900ms);
    CHECK(c.dns.tries == 3);
    CHECK(c.dns.attempt_delay == 100ms);
    CHECK(c.reconnect.enabled);
    CHECK(c.reconnect.initial_delay == 200ms);
    CHECK(c.reconnect.min_delay == 50ms);
    CHECK(c.reconnect.max_delay == 9000ms);
    CHECK(c.reconnect.multiplier == Approx(1.5));
    CHECK(c.reconnect.max_attempts == 7);
    CHECK_FALSE(c.stream_management.enabled);
    CHECK_FALSE(c.stream_management.resume);
    CHECK(c.stream_management.ack_every == 1);
    CHECK(c.stream_management.ack_after == 300ms);
    CHECK(c.queue.max_stanzas == 100);
    CHECK(c.queue.max_bytes == 100000);
    CHECK(c.queue.when_full == QueueFullPolicy::drop_oldest);
    CHECK(c.queue.flush_at_ready);
    CHECK(c.rate_limit.stanzas_per_second == Approx(10));
    CHECK(c.rate_limit.bytes_per_second == Approx(2048.5));
}

TEST_CASE("config file: an empty file gives Config's defaults", "[config_file]") {
    const Config c = parse_config("", "empty.toml");
    const Config d;
    CHECK_FALSE(c.connection_type.has_value());
    CHECK(c.tls.policy == d.tls.policy);
    CHECK(c.connect_timeout == d.connect_timeout);
    CHECK(c.alias == d.alias);
    CHECK(c.stream_management.enabled == d.stream_management.enabled);
}

TEST_CASE("config file: a profile applies its keys on top of the top-level ones", "[config_file]") {
    const std::string text = R"(
connection_type = "xmpp"
jid = "alice@localhost"
tls.ca_file = "/etc/ca.pem"

[profile.alerts]
jid = "alerts@example.org/bot"
ip = "127.0.0.1"
port = 5223
tls.policy = "direct"

[profile.component]
connection_type = "j14"
hostname = "component.localhost"
password = "s3cret"
)";
    SECTION("no profile: the top level alone") {
        const Config c = parse_config(text, "t.toml");
        CHECK(c.username == "alice");
        CHECK(c.hostname == "localhost");
        CHECK(c.ip.empty());
        CHECK(c.tls.policy == TlsPolicy::required);
    }
    SECTION("a client profile overrides the JID and adds a sub-table key, keeping the others") {
        const Config c = parse_config(text, "t.toml", "alerts");
        CHECK(c.connection_type == ConnectionType::XMPP);
        CHECK(c.username == "alerts");
        CHECK(c.hostname == "example.org");
        CHECK(c.resource == "bot");
        CHECK(c.port == 5223);
        CHECK(c.tls.policy == TlsPolicy::direct);
        CHECK(c.tls.ca_file == "/etc/ca.pem");
    }
    SECTION("a component profile picks its own connection type") {
        const Config c = parse_config(text, "t.toml", "component");
        CHECK(c.connection_type == ConnectionType::JABBERD14_COMPONENT);
        CHECK(c.hostname == "component.localhost");
        CHECK(c.password == "s3cret");
    }
}

TEST_CASE("config file: connection types by short name and by PCJ's name", "[config_file]") {
    auto [name, type] = GENERATE(table<std::string, ConnectionType>({
        {"xmpp", ConnectionType::XMPP},
        {"legacy", ConnectionType::LEGACY},
        {"j14", ConnectionType::JABBERD14_COMPONENT},
        {"j2", ConnectionType::JABBERD20_COMPONENT},
        {"JABBERD20_COMPONENT", ConnectionType::JABBERD20_COMPONENT},
        {"LEGACY", ConnectionType::LEGACY},
    }));
    CHECK(parse_config("connection_type = \"" + name + "\"", "t.toml").connection_type == type);
}

TEST_CASE("config file: each kind of error names the file, the line and the key", "[config_file]") {
    auto [text, expected] = GENERATE(table<std::string, std::string>({
        // unknown keys, at the top, in a section, in a profile
        {"ip = \"a\"\nprot = 5222", "test.toml:2: prot: unknown key"},
        {"\n[tls]\npolicy = \"required\"\nverfy = true", "test.toml:4: tls.verfy: unknown key"},
        {"[profile.a]\n\nfoo = 1", "test.toml:3: profile.a.foo: unknown key"},
        {"[nonsense]\nx = 1", "test.toml:1: nonsense: unknown table"},
        // wrong types
        {"port = \"5222\"", "test.toml:1: port: expected an integer, not string"},
        {"\n\ndebug = 1", "test.toml:3: debug: expected true or false, not integer"},
        {"ip = 127", "test.toml:1: ip: expected a string, not integer"},
        {"\nservers = [\"node1:5347\", \"node2\"]",
         "test.toml:2: servers: 'node2' is not HOST:PORT (e.g. node1.example.org:5347, "
         "[::1]:5347)"},
        {"servers = [\"node1:70000\"]",
         "test.toml:1: servers: 'node1:70000': the port must be between 1 and 65535"},
        {"sasl.mechanisms = \"PLAIN\"",
         "test.toml:1: sasl.mechanisms: expected an array of strings"},
        {"dns.servers = [\n  \"127.0.0.1\",\n  53,\n]",
         "test.toml:3: dns.servers: expected an array of strings"},
        {"tls = 1", "test.toml:1: tls: expected a table"},
        {"connect_timeout = 1.5", "test.toml:1: connect_timeout: expected an integer"},
        // bad values
        {"port = 70000", "test.toml:1: port: must be between 1 and 65535, not 70000"},
        {"port = -1", "test.toml:1: port: must be between 1 and 65535, not -1"},
        {"\nconnection_type = \"jabber\"",
         "test.toml:2: connection_type: unknown connection type 'jabber'"},
        {"[tls]\npolicy = \"sometimes\"",
         "test.toml:2: tls.policy: expected required, optional, disabled or direct"},
        {"queue.when_full = \"panic\"",
         "test.toml:1: queue.when_full: expected reject_new or drop_oldest"},
        {"reconnect.multiplier = 0.5",
         "test.toml:1: reconnect.multiplier: must be between 1 and 100"},
        {"dns.tries = 0", "test.toml:1: dns.tries: must be between 1 and 10, not 0"},
        {"shutdown_timeout = -5", "test.toml:1: shutdown_timeout: must be between 0 and"},
        {"jid = \"@localhost\"", "test.toml:1: jid: '@localhost' is not a JID"},
        {"alias = \"\"", "test.toml:1: alias: must not be empty"},
        // profiles that are not tables
        {"profile = 3", "test.toml:1: profile: expected tables [profile.NAME]"},
        {"[profile]\nalerts = 3", "test.toml:2: profile.alerts: expected a table"},
    }));
    INFO(text);
    CHECK_THAT(error_of(text), StartsWith(expected));
}

TEST_CASE("config file: bad TOML is reported with its line and column", "[config_file]") {
    const std::string message = error_of("ip = \"127.0.0.1\"\nport = = 5\n");
    CHECK_THAT(message, StartsWith("test.toml:2:"));
    CHECK_THAT(message, Contains("bad TOML"));
    CHECK_THAT(error_of("[tls]\n[tls]\n"), StartsWith("test.toml:2:"));
}

TEST_CASE("config file: a missing profile names itself and the profiles there are",
          "[config_file]") {
    const std::string text = "[profile.b]\nip = \"x\"\n[profile.a]\nip = \"y\"\n";
    CHECK(error_of(text, "alerts") == "test.toml: profile.alerts: no such profile (defined: b, a)");
    CHECK(error_of("ip = \"x\"", "alerts") ==
          "test.toml: profile.alerts: no such profile (the file defines none)");
}

TEST_CASE("config file: load_config reads a file, resolves relative paths against its "
          "directory and lists its profiles",
          "[config_file]") {
    TempFile file("connection_type = \"xmpp\"\ntls.ca_file = \"ca.pem\"\n"
                  "tls.client_cert_file = \"/abs/me.pem\"\n"
                  "[profile.one]\nport = 1\n[profile.two]\nport = 2\n");
    const Config c = load_config(file.path, "two");
    CHECK(c.tls.ca_file == file.dir + "/ca.pem");
    CHECK(c.tls.client_cert_file == "/abs/me.pem");
    CHECK(c.port == 2);
    CHECK(config_profiles(file.path) == std::vector<std::string>{"one", "two"});

    TempFile bad("port = 99999\n");
    CHECK_THROWS_WITH(load_config(bad.path), StartsWith(bad.path + ":1: port: must be between"));
}

TEST_CASE("config file: a file that cannot be read is a ConfigError naming it", "[config_file]") {
    CHECK_THROWS_WITH(load_config("/nonexistent/pcj.toml"),
                      StartsWith("/nonexistent/pcj.toml: cannot read"));
}

TEST_CASE("config file: a loaded file makes a Config that Component accepts", "[config_file]") {
    Config c = parse_config("connection_type = \"j14\"\nip = \"127.0.0.1\"\nport = 5347\n"
                            "hostname = \"component.localhost\"\npassword = \"secret\"\n",
                            "t.toml");
    CHECK_NOTHROW(c.validate_and_complete());
}

TEST_CASE("config file: a list of servers, IPv6 in brackets, in order or shuffled",
          "[config_file]") {
    Config c = parse_config("connection_type = \"j14\"\nhostname = \"component.localhost\"\n"
                            "password = \"secret\"\nshuffle_servers = true\n"
                            "servers = [\"127.0.0.1:5347\", \"[::1]:5348\", \"node3:5349\"]\n",
                            "t.toml");
    REQUIRE(c.servers.size() == 3);
    CHECK(c.servers[0].host == "127.0.0.1");
    CHECK(c.servers[0].port == 5347);
    CHECK(c.servers[1].host == "::1");
    CHECK(c.servers[1].port == 5348);
    CHECK(c.servers[2].host == "node3");
    CHECK(c.servers[2].port == 5349);
    CHECK(c.shuffle_servers);
    CHECK_NOTHROW(c.validate_and_complete());
}
