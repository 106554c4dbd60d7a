// TestServer: starts a real XMPP server for a test through test/servers/pcj-testserver.
#include "servers.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace pcj::test {

namespace {

struct ScriptResult {
    bool ok = false;
    std::string output; // stdout and stderr, interleaved as the script wrote them
};

// The script's directory: $PCJ_TEST_SERVERS (set by meson for the integration tests), else the
// source directory the build was configured with.
std::string script_path() {
    const char* dir = std::getenv("PCJ_TEST_SERVERS");
    if (dir != nullptr && *dir != '\0') {
        return std::string(dir) + "/pcj-testserver";
    }
#ifdef PCJ_TEST_SERVERS_DIR
    return std::string(PCJ_TEST_SERVERS_DIR) + "/pcj-testserver";
#else
    throw std::runtime_error("TestServer: PCJ_TEST_SERVERS is not set (the directory holding "
                             "pcj-testserver; meson test sets it)");
#endif
}

std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            out.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            return out;
        }
    }
}

// Runs "bash pcj-testserver ARGS..." and collects its output. Through bash rather than by its
// own name so that a lost executable bit cannot break the tests. The servers the script starts
// write to their own log files, so the pipe reaches end-of-file when the script exits.
ScriptResult run_script(const std::vector<std::string>& args) {
    std::vector<std::string> words{"bash", script_path()};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& w : words) {
        argv.push_back(w.data());
    }
    argv.push_back(nullptr);

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("TestServer: pipe2: ") + std::strerror(errno));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    pid_t pid = 0;
    const int rc = ::posix_spawnp(&pid, "bash", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) {
        ::close(fds[0]);
        throw std::runtime_error(std::string("TestServer: cannot run bash: ") + std::strerror(rc));
    }
    ScriptResult result;
    result.output = read_all(fds[0]);
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return result;
}

std::string describe(const std::vector<std::string>& args) {
    std::string s = "pcj-testserver";
    for (const auto& a : args) {
        s += ' ';
        s += a;
    }
    return s;
}

// Runs the script and throws with its whole output when it fails.
void run_or_throw(const std::vector<std::string>& args) {
    auto result = run_script(args);
    if (!result.ok) {
        throw std::runtime_error(describe(args) + " failed:\n" + result.output);
    }
}

std::string make_temp_dir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp");
    templ += "/pcj-server-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) {
        throw std::runtime_error("TestServer: mkdtemp(" + templ + "): " + std::strerror(errno));
    }
    return std::string(buf.data());
}

bool keep_dirs() {
    const char* keep = std::getenv("PCJ_KEEP_SERVER_DIRS");
    return keep != nullptr && std::string(keep) == "1";
}

void remove_dir(const std::string& dir) {
    if (keep_dirs()) {
        std::cerr << "TestServer: keeping " << dir << " (PCJ_KEEP_SERVER_DIRS=1)\n";
        return;
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
}

// The start time (field 22 of /proc/PID/stat) of a live process, or "" when there is none.
std::string start_time_of(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!in || !std::getline(in, stat)) {
        return {};
    }
    // The command name may hold spaces: count fields after its closing parenthesis.
    const auto close = stat.rfind(')');
    if (close == std::string::npos) {
        return {};
    }
    std::istringstream rest(stat.substr(close + 1));
    std::string field;
    for (int i = 3; i <= 22 && (rest >> field); ++i) {
        if (i == 3 && (field == "Z" || field == "X")) {
            return {};
        }
        if (i == 22) {
            return field;
        }
    }
    return {};
}

} // namespace

std::string to_string(ServerKind kind) {
    switch (kind) {
    case ServerKind::prosody:
        return "prosody";
    case ServerKind::ejabberd:
        return "ejabberd";
    case ServerKind::jabberd2_router:
        return "jabberd2-router";
    case ServerKind::jabberd2:
        return "jabberd2";
    case ServerKind::ejabberd_cluster:
        return "ejabberd-cluster";
    }
    return "unknown";
}

TestServer::TestServer(ServerKind kind) : kind_(kind), dir_(make_temp_dir()) {
    const std::vector<std::string> args{"start", to_string(kind), dir_};
    try {
        auto result = run_script(args);
        if (!result.ok) {
            throw std::runtime_error(describe(args) + " failed:\n" + result.output);
        }
        running_ = true;
        load_env();
    } catch (...) {
        // The destructor will not run: make sure nothing is left behind.
        try {
            run_script({"stop", dir_});
        } catch (...) {
            // Reported by the exception being rethrown.
        }
        remove_dir(dir_);
        throw;
    }
}

TestServer::~TestServer() {
    if (paused_) {
        resume(); // a stopped process would sit on SIGTERM until the script's SIGKILL
    }
    try {
        auto result = run_script({"stop", dir_});
        if (!result.ok) {
            std::cerr << "TestServer: stopping " << to_string(kind_) << " in " << dir_
                      << " failed:\n"
                      << result.output;
        }
    } catch (const std::exception& e) {
        std::cerr << "TestServer: " << e.what() << '\n';
    }
    remove_dir(dir_);
}

std::string TestServer::get(const std::string& key) const {
    auto it = vars_.find(key);
    if (it == vars_.end()) {
        throw std::runtime_error("TestServer: " + to_string(kind_) + " has no setting '" + key +
                                 "' (see " + dir_ + "/env and test/servers/README.md)");
    }
    return it->second;
}

std::uint16_t TestServer::port(const std::string& key) const {
    const std::string value = get(key);
    char* end = nullptr;
    errno = 0;
    const long n = std::strtol(value.c_str(), &end, 10);
    if (errno != 0 || end == value.c_str() || *end != '\0' || n < 1 || n > 65535) {
        throw std::runtime_error("TestServer: " + key + "='" + value + "' is not a port");
    }
    return static_cast<std::uint16_t>(n);
}

void TestServer::kill() {
    if (paused_) {
        resume();
    }
    run_or_throw({"kill", dir_});
    running_ = false;
}

void TestServer::kill_one(const std::string& name) {
    run_or_throw({"kill-one", dir_, name});
}

void TestServer::restart() {
    if (paused_) {
        resume();
    }
    run_or_throw({"restart", dir_});
    running_ = true;
    load_env();
}

void TestServer::stop() {
    if (paused_) {
        resume();
    }
    run_or_throw({"stop", dir_});
    running_ = false;
}

// Asks the script, so that a server that crashed by itself is reported as not running.
bool TestServer::running() const {
    return running_ && run_script({"status", dir_}).ok;
}

int TestServer::pause() {
    const int n = signal_started(SIGSTOP);
    paused_ = n > 0;
    return n;
}

int TestServer::resume() {
    const int n = signal_started(SIGCONT);
    paused_ = false;
    return n;
}

// Signals only the processes DIR/pids records, and only while each is still the process the
// script started, as pcj-testserver itself does.
int TestServer::signal_started(int sig) const {
    std::ifstream in(dir_ + "/pids");
    int signalled = 0;
    long pid = 0;
    std::string start, name;
    while (in >> pid >> start >> name) {
        if (pid > 1 && start_time_of(pid) == start && ::kill(static_cast<pid_t>(pid), sig) == 0) {
            ++signalled;
        }
    }
    return signalled;
}

void TestServer::load_env() {
    std::ifstream in(dir_ + "/env");
    if (!in) {
        throw std::runtime_error("TestServer: cannot read " + dir_ + "/env");
    }
    vars_.clear();
    std::string line;
    while (std::getline(in, line)) {
        const auto eq = line.find('=');
        if (eq != std::string::npos && eq > 0) {
            vars_[line.substr(0, eq)] = line.substr(eq + 1);
        }
    }
}

} // namespace pcj::test
