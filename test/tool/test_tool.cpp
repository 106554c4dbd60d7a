// The `pcj` tool end to end, against a real Prosody started by the test: a message sent with
// `pcj send` seen arriving by a concurrent `pcj watch` (JSON and text lines), config profiles,
// ping, and the exit code of each kind of failure.
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "encoding.hpp"
#include "pcj/node.hpp"
#include "process.hpp"
#include "servers.hpp"

using namespace pcj::test;
using Catch::Matchers::Contains;
using namespace std::chrono_literals;

namespace {

// The client options for the test account of `s`, as the issue's command line has them.
std::vector<std::string> client(const TestServer& s, std::vector<std::string> args) {
    for (const char* opt : {"--type", "xmpp", "--jid"}) {
        args.emplace_back(opt);
    }
    args.push_back(s.get("USER") + "@" + s.get("DOMAIN"));
    for (const std::string& opt : {std::string("--host"), s.get("HOST"), std::string("--port"),
                                   s.get("C2S_PORT"), std::string("--ca-file"), s.get("CA_FILE"),
                                   std::string("--timeout"), std::string("20")}) {
        args.push_back(opt);
    }
    return args;
}

std::map<std::string, std::string> password(const TestServer& s) {
    return {{"PCJ_PASSWORD", s.get("PASSWORD")}};
}

// A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
std::string refused_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    ::close(fd);
    return std::to_string(ntohs(a.sin_port));
}

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/pcj-tool-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const {
        const std::string file = path + "/" + name;
        std::filesystem::create_directories(std::filesystem::path(file).parent_path());
        std::ofstream(file) << text;
        return file;
    }
};

nlohmann::json parse_line(const std::string& line) {
    INFO(line);
    return nlohmann::json::parse(line); // throws, failing the test, on a line that is not JSON
}

bool is_event(const std::string& line, const std::string& name) {
    return parse_line(line)["event"] == name;
}

// Waits until `watch` (a `pcj watch --json`) reports PCJ_READY.
void require_ready(Child& watch) {
    REQUIRE(
        watch.wait_for_line([](const std::string& l) { return is_event(l, "PCJ_READY"); }, 20s));
}

// Waits until `watch` is ready and then available: an `event` (PCJ_NODESENT or
// PCJ_NODERECEIVED) whose stanza is a presence shows the initial presence went out or came back.
void require_present(Child& watch, const std::string& event) {
    require_ready(watch);
    REQUIRE(watch.wait_for_line(
        [&](const std::string& l) {
            const auto j = parse_line(l);
            return j["event"] == event && j["stanza"].get<std::string>().rfind("<presence", 0) == 0;
        },
        10s));
}

} // namespace

TEST_CASE("tool: pcj send delivers a message that a concurrent pcj watch --json receives",
          "[tool]") {
    TestServer s(ServerKind::prosody);
    Child watch(client(s, {tool_path(), "watch", "--json"}), password(s));
    // Ready, and available: the server echoes the watcher's own presence back to it.
    require_present(watch, "PCJ_NODERECEIVED");

    const std::string body = "hello " + std::to_string(::getpid());
    const Result sent = run_tool(
        client(s, {"send", "--to", s.get("USER") + "@" + s.get("DOMAIN"), body}), password(s));
    INFO(sent.err);
    CHECK(sent.status == 0);
    CHECK_THAT(sent.err, Contains("acknowledged by the server")); // Prosody offers XEP-0198

    nlohmann::json received;
    const bool arrived = watch.wait_for_line(
        [&](const std::string& l) {
            const auto j = parse_line(l);
            if (j["event"] != "PCJ_NODERECEIVED" || !j["stanza"].is_string()) {
                return false;
            }
            const pcj::Node stanza = pcj::Node::parse(j["stanza"].get<std::string>());
            const pcj::Node* b = stanza.child("body");
            if (stanza.name() != "message" || b == nullptr || b->text() != body) {
                return false;
            }
            received = j;
            return true;
        },
        10s);
    INFO(watch.out() << watch.err());
    REQUIRE(arrived);
    CHECK(received["reason"].is_null());
    CHECK(received["time"].get<std::string>().size() == 24); // 2026-12-03T06:40:12.345Z

    // SIGTERM: the stream is closed cleanly and the exit status is 0.
    watch.signal(SIGTERM);
    CHECK(watch.wait(15s) == 0);
    std::vector<std::string> events;
    for (const auto& l : watch.lines()) {
        events.push_back(parse_line(l)["event"]);
    }
    const auto has = [&](const char* e) {
        return std::find(events.begin(), events.end(), e) != events.end();
    };
    CHECK(has("PCJ_STREAMEND")); // our </stream:stream>
    CHECK(has("PCJ_SHUTDOWN_FINISH"));
    CHECK_FALSE(has("PCJ_SOCKETFAIL"));
}

TEST_CASE("tool: pcj watch without --json prints one line per event: time, name, stanza",
          "[tool]") {
    TestServer s(ServerKind::prosody);
    Child watch(client(s, {tool_path(), "watch"}), password(s));
    // "2026-12-03T06:40:12.345Z PCJ_NODERECEIVED <presence …/>" once ready and available.
    const auto event_of = [](const std::string& l) {
        const auto space = l.find(' ');
        REQUIRE(space == 24); // the time first: 2026-12-03T06:40:12.345Z
        REQUIRE(l[23] == 'Z');
        const auto end = l.find(' ', space + 1);
        return l.substr(space + 1, end == std::string::npos ? end : end - space - 1);
    };
    REQUIRE(
        watch.wait_for_line([&](const std::string& l) { return event_of(l) == "PCJ_READY"; }, 20s));
    REQUIRE(watch.wait_for_line(
        [&](const std::string& l) {
            return event_of(l) == "PCJ_NODERECEIVED" && l.find(" <presence") != std::string::npos;
        },
        10s));

    // Two lines of text: the event is still one line, with the break as a character reference.
    const std::string first = "plain " + std::to_string(::getpid());
    const std::string body = first + "\nsecond line";
    const Result sent = run_tool(
        client(s, {"send", "--to", s.get("USER") + "@" + s.get("DOMAIN"), body}), password(s));
    INFO(sent.err);
    CHECK(sent.status == 0);
    std::string line;
    const bool arrived = watch.wait_for_line(
        [&](const std::string& l) {
            if (event_of(l) != "PCJ_NODERECEIVED" ||
                l.find("<body>" + first + "&#10;second line</body>") == std::string::npos) {
                return false;
            }
            line = l;
            return true;
        },
        10s);
    INFO(watch.out() << watch.err());
    REQUIRE(arrived);
    // The stanza is the rest of the line, whole: it parses back to the message sent.
    const pcj::Node stanza = pcj::Node::parse(line.substr(line.find(" <") + 1));
    CHECK(stanza.name() == "message");
    REQUIRE(stanza.child("body") != nullptr);
    CHECK(stanza.child("body")->text() == body);

    watch.signal(SIGINT);
    CHECK(watch.wait(15s) == 0);
    bool finished = false;
    for (const auto& l : watch.lines()) {
        finished = finished || event_of(l) == "PCJ_SHUTDOWN_FINISH";
    }
    CHECK(finished);
}

TEST_CASE("tool: a profile of a config file is the whole connection, from --config or the "
          "default file",
          "[tool]") {
    TestServer s(ServerKind::prosody);
    TempDir dir;
    std::filesystem::create_directories(dir.path + "/pcj");
    std::filesystem::copy_file(s.get("CA_FILE"), dir.path + "/pcj/ca.pem",
                               std::filesystem::copy_options::none);
    const std::string text = "connection_type = \"xmpp\"\n"
                             "ip = \"127.0.0.1\"\n"
                             "port = 1\n" // the top level alone would be refused
                             "[profile.alerts]\n"
                             "jid = \"" +
                             s.get("USER") + "@" + s.get("DOMAIN") +
                             "\"\n"
                             "port = " +
                             s.get("C2S_PORT") +
                             "\n"
                             "password = \"" +
                             s.get("PASSWORD") +
                             "\"\n"
                             "tls.ca_file = \"ca.pem\"\n"; // relative to the file
    const std::string file = dir.write("pcj/config.toml", text);

    {
        INFO("--config FILE --profile NAME");
        const Result r = run_tool({"send", "--config", file, "--profile", "alerts", "--to",
                                   s.get("USER2") + "@" + s.get("DOMAIN"), "disk", "full"});
        INFO(r.err);
        CHECK(r.status == 0);
    }
    {
        INFO("$XDG_CONFIG_HOME/pcj/config.toml by default");
        const Result r = run_tool({"ping", "--profile", "alerts"}, {{"XDG_CONFIG_HOME", dir.path}});
        INFO(r.err);
        CHECK(r.status == 0);
        CHECK_THAT(r.out, Contains("type=\"result\""));
    }
    {
        INFO("the top level alone connects to port 1: refused, exit 3");
        const Result r =
            run_tool({"ping", "--config", file, "--jid", "a@localhost"}, {{"PCJ_PASSWORD", "x"}});
        CHECK(r.status == 3);
    }
    {
        INFO("an unknown profile is a usage error naming it");
        const Result r = run_tool({"ping", "--config", file, "--profile", "nope"});
        CHECK(r.status == 2);
        CHECK_THAT(r.err, Contains("profile.nope: no such profile (defined: alerts)"));
    }
}

TEST_CASE("tool: pcj ping gets the server's reply; an error reply exits 1", "[tool]") {
    TestServer s(ServerKind::prosody);
    const Result ok = run_tool(client(s, {"ping"}), password(s));
    INFO(ok.err);
    CHECK(ok.status == 0);
    const pcj::Node reply = pcj::Node::parse(ok.out);
    CHECK(reply.attr("type") == "result");
    CHECK(reply.attr("from") == s.get("DOMAIN"));

    const Result bad = run_tool(client(s, {"ping", "nobody@remote.invalid"}), password(s));
    CHECK(bad.status == 1);
    CHECK_THAT(bad.out, Contains("type=\"error\""));
}

TEST_CASE("tool: each kind of failure has its exit code", "[tool]") {
    TestServer s(ServerKind::prosody);
    {
        INFO("a wrong password: authentication, 5");
        const Result r = run_tool(client(s, {"ping"}), {{"PCJ_PASSWORD", "wrong"}});
        CHECK(r.status == 5);
        CHECK_THAT(r.err, Contains("not-authorized"));
    }
    {
        INFO("a refused port: network, 3");
        auto args = client(s, {"ping"});
        args.insert(args.end(), {"--port", refused_port()});
        const Result r = run_tool(args, password(s));
        CHECK(r.status == 3);
        CHECK_THAT(r.err, Contains("refused"));
    }
    {
        INFO("a certificate no trusted CA signed: TLS, 4");
        const Result r = run_tool({"ping", "--jid", s.get("USER") + "@" + s.get("DOMAIN"), "--host",
                                   s.get("HOST"), "--port", s.get("C2S_PORT"), "--timeout", "20"},
                                  password(s));
        CHECK(r.status == 4);
        CHECK_THAT(r.err, Contains("ssl_invalid_chain"));
    }
    {
        INFO("a wrong component secret: authentication, 5");
        const Result r = run_tool({"send", "--type", "j14", "--domain", s.get("COMPONENT_DOMAIN"),
                                   "--host", s.get("HOST"), "--port", s.get("COMPONENT_PORT"),
                                   "--to", s.get("DOMAIN"), "hi"},
                                  {{"PCJ_PASSWORD", "wrong"}});
        CHECK(r.status == 5);
    }
    {
        INFO("a domain the server does not serve: stream error, 6");
        const Result r = run_tool({"ping", "--jid", "a@unknown.example", "--host", s.get("HOST"),
                                   "--port", s.get("C2S_PORT"), "--ca-file", s.get("CA_FILE")},
                                  password(s));
        CHECK(r.status == 6);
        CHECK_THAT(r.err, Contains("host-unknown"));
    }
    // Last: the server stays frozen until the ping has given up.
    {
        INFO("a server that does not answer: timeout, 7");
        REQUIRE(s.pause() > 0);
        auto args = client(s, {"ping"});
        args.insert(args.end(), {"--timeout", "1"});
        const Result r = run_tool(args, password(s));
        s.resume();
        CHECK(r.status == 7);
    }
}

TEST_CASE("tool: bad options are refused with exit 2, naming the option", "[tool]") {
    auto [args, named] = GENERATE(table<std::vector<std::string>, std::string>({
        {{"ping", "--jid", "a@localhost", "--port", "70000"}, "--port"},
        {{"ping", "--jid", "a@localhost", "--port", "-1"}, "--port"},
        {{"ping", "--jid", "a@localhost", "--port", "abc"}, "--port"},
        {{"ping", "--jid", "a@localhost", "--timeout", "abc"}, "--timeout"},
        {{"ping", "--jid", "a@localhost", "--type", "jabber"}, "--type"},
        {{"ping", "--host", "127.0.0.1", "--port", "5222"}, "--jid"},
        {{"ping", "--type", "j14", "--domain", "c.localhost"}, "--host"},
        {{"ping", "--type", "j14", "--domain", "c.localhost", "--host", "127.0.0.1"}, "--port"},
        {{"watch", "--jid", "a@localhost", "--priority", "300"}, "--priority"},
        {{"frobnicate"}, "subcommand"},
    }));
    const Result r = run_tool(args, {{"PCJ_PASSWORD", "x"}});
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Contains(named));
}

TEST_CASE("tool: without a password and without a terminal, pcj refuses before connecting",
          "[tool]") {
    const Result r =
        run_tool({"ping", "--jid", "a@localhost", "--host", "127.0.0.1", "--port", refused_port()},
                 {{"PCJ_PASSWORD", ""}});
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Contains("no password"));
}

TEST_CASE("tool: send - writes every stanza from stdin and --debug masks the credentials",
          "[tool]") {
    TestServer s(ServerKind::prosody);
    TempDir dir;
    // PLAIN, so that the password itself would be on the wire if --debug did not mask it.
    const std::string conf = dir.write("plain.toml", "sasl.mechanisms = [\"PLAIN\"]\n");
    const std::string to = s.get("USER2") + "@" + s.get("DOMAIN");
    const std::string input = "<message to='" + to + "'><body>one</body></message>\n<message to='" +
                              to + "'><body>two</body></message>\n";
    auto args = client(s, {"send", "--debug", "--config", conf, "-"});
    const Result r = run_tool(args, password(s), input);
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK_THAT(r.err, Contains("2 stanzas acknowledged by the server"));
    CHECK_THAT(r.err, Contains("mechanism=\"PLAIN\">…</auth>"));
    const std::string plain = pcj::detail::base64_encode(std::string("\0", 1) + s.get("USER") +
                                                         std::string("\0", 1) + s.get("PASSWORD"));
    CHECK(r.err.find(plain) == std::string::npos);
    CHECK(r.err.find(s.get("PASSWORD")) == std::string::npos);
    CHECK_THAT(r.err, Contains("<body>two</body>"));
    CHECK_THAT(r.err, Contains("SEND </stream:stream>"));
}

TEST_CASE("tool: an XEP-0114 component sends a message that a client watching receives", "[tool]") {
    TestServer s(ServerKind::prosody);
    Child watch(client(s, {tool_path(), "watch", "--json", "--filter", "/message[body]"}),
                password(s));
    // The filter leaves the presence echo out; the NODESENT of our presence is the sign.
    require_present(watch, "PCJ_NODESENT");
    const Result r = run_tool({"send", "--type", "j14", "--domain", s.get("COMPONENT_DOMAIN"),
                               "--host", s.get("HOST"), "--port", s.get("COMPONENT_PORT"), "--to",
                               s.get("USER") + "@" + s.get("DOMAIN"), "from", "the", "component"},
                              {{"PCJ_PASSWORD", s.get("COMPONENT_SECRET")}});
    INFO(r.err);
    CHECK(r.status == 0);
    const bool arrived = watch.wait_for_line(
        [&](const std::string& l) {
            const auto j = parse_line(l);
            return j["event"] == "filter" && j["xpath"] == "/message[body]" &&
                   j["stanza"].get<std::string>().find("from the component") != std::string::npos;
        },
        10s);
    INFO(watch.out());
    CHECK(arrived);
    watch.signal(SIGINT);
    CHECK(watch.wait(15s) == 0);
}

TEST_CASE("tool: the config-driven daemon example runs the component its profile names, and "
          "pcj reaches it",
          "[tool][examples]") {
    const char* examples = std::getenv("PCJ_EXAMPLES_DIR");
    if (examples == nullptr) {
        FAIL("PCJ_EXAMPLES_DIR is not set: build with the examples to run this test");
    }
    TestServer s(ServerKind::prosody);
    TempDir dir;
    // The top level is a client profile; the daemon is asked for the component one.
    const std::string file = dir.write(
        "daemon.toml", "connection_type = \"xmpp\"\njid = \"nobody@localhost\"\n"
                       "[profile.echo]\nconnection_type = \"j14\"\nip = \"127.0.0.1\"\n"
                       "port = " +
                           s.get("COMPONENT_PORT") + "\nhostname = \"" + s.get("COMPONENT_DOMAIN") +
                           "\"\npassword = \"" + s.get("COMPONENT_SECRET") + "\"\n");
    Child daemon({std::string(examples) + "/config_daemon", "--config", file, "--profile", "echo"});
    REQUIRE(daemon.wait_for_line(
        [&](const std::string& l) { return l == "ready as " + s.get("COMPONENT_DOMAIN"); }, 20s));

    // A client pings the component and asks for its disco#info: the daemon's extensions answer.
    const Result ping = run_tool(client(s, {"ping", s.get("COMPONENT_DOMAIN")}), password(s));
    INFO(ping.out << ping.err);
    CHECK(ping.status == 0);
    CHECK(pcj::Node::parse(ping.out).attr("from") == s.get("COMPONENT_DOMAIN"));
    const Result disco = run_tool(client(s, {"disco", s.get("COMPONENT_DOMAIN")}), password(s));
    CHECK(disco.status == 0);
    CHECK_THAT(disco.out, Contains("urn:xmpp:ping"));

    daemon.signal(SIGTERM);
    CHECK(daemon.wait(15s) == 0);
    // Without the daemon the server answers the ping with an error: exit 1.
    const Result gone = run_tool(client(s, {"ping", s.get("COMPONENT_DOMAIN")}), password(s));
    CHECK(gone.status == 1);
}

TEST_CASE("tool: a LEGACY (iq:auth) client pings its server", "[tool]") {
    TestServer s(ServerKind::prosody);
    auto args = client(s, {"ping"});
    args[std::find(args.begin(), args.end(), "xmpp") - args.begin()] = "legacy";
    const Result r = run_tool(args, password(s));
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(pcj::Node::parse(r.out).attr("type") == "result");
}

TEST_CASE("tool: a jabberd2 router component's route reaches another component watching",
          "[tool]") {
    TestServer s(ServerKind::jabberd2_router);
    const std::vector<std::string> j2 = {"--type",    "j2",
                                         "--domain",  s.get("DOMAIN"),
                                         "--user",    s.get("ROUTER_USER"),
                                         "--host",    s.get("HOST"),
                                         "--port",    s.get("ROUTER_PORT"),
                                         "--ca-file", s.get("CA_FILE")};
    const std::map<std::string, std::string> secret = {{"PCJ_PASSWORD", s.get("ROUTER_SECRET")}};
    std::vector<std::string> watch_args = {tool_path(), "watch", "--json", "--bind",
                                           "echo.localhost"};
    watch_args.insert(watch_args.end(), j2.begin(), j2.end());
    Child watch(watch_args, secret);
    require_ready(watch);

    std::vector<std::string> send_args = {
        "send", "--bind", "sender.localhost", "--to", "someone@echo.localhost", "via",
        "the",  "router"};
    send_args.insert(send_args.end(), j2.begin(), j2.end());
    const Result r = run_tool(send_args, secret);
    INFO(r.err);
    CHECK(r.status == 0);
    const bool arrived = watch.wait_for_line(
        [](const std::string& l) {
            const auto j = parse_line(l);
            if (j["event"] != "PCJ_NODERECEIVED") {
                return false;
            }
            const pcj::Node route = pcj::Node::parse(j["stanza"].get<std::string>());
            const pcj::Node* message = route.child("message");
            return route.local_name() == "route" && route.attr("from") == "sender.localhost" &&
                   message != nullptr && message->child("body") != nullptr &&
                   message->child("body")->text() == "via the router";
        },
        10s);
    INFO(watch.out());
    CHECK(arrived);
    watch.signal(SIGTERM);
    CHECK(watch.wait(15s) == 0);
}

TEST_CASE("tool: the bash completion completes commands, options, their values and the "
          "profiles of the config file",
          "[tool][completion]") {
    const char* script = std::getenv("PCJ_COMPLETION");
    REQUIRE(script != nullptr); // set by meson for the tool suite
    TempDir dir;
    const std::string conf = dir.write("c.toml", "[profile.alerts]\nport = 1\n[profile.echo]\n");
    // bash-completion's two helpers, reduced to what the script uses from them.
    const std::string driver = R"(
_init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD;
    cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; }
_filedir() { :; }
source "$1"
complete_line() { COMP_WORDS=($2); COMP_CWORD=$1; [[ $3 == more ]] && COMP_WORDS+=("");
    COMPREPLY=(); _pcj; echo "${COMPREPLY[*]}"; }
complete_line 1 "pcj se"
complete_line 2 "pcj send --ty"
complete_line 3 "pcj send --type" more
complete_line 2 "pcj watch --js"
complete_line 5 "pcj ping --config $2 --profile" more
)";
    Child bash({"/bin/bash", "-c", driver, "bash", script, conf});
    REQUIRE(bash.wait() == 0);
    INFO(bash.err());
    CHECK(bash.lines() == std::vector<std::string>{"send", "--type", "xmpp legacy j14 j2", "--json",
                                                   "alerts echo"});
}
