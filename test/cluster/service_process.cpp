// ServiceProcess: posix_spawn, signals by PID, waitpid.
#include "service_process.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

namespace pcj::test {

namespace {

std::string service_path() {
    const char* dir = std::getenv("PCJ_EXAMPLES_DIR");
    if (dir == nullptr || *dir == '\0') {
        throw std::runtime_error("PCJ_EXAMPLES_DIR is not set (meson test sets it)");
    }
    return std::string(dir) + "/cluster_service";
}

} // namespace

ServiceProcess::ServiceProcess(std::string name, const std::vector<std::string>& args,
                               std::string log_file)
    : name_(std::move(name)), log_file_(std::move(log_file)) {
    std::vector<std::string> words{service_path()};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& w : words) {
        argv.push_back(w.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_file_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = ::posix_spawn(&pid_, words[0].c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        pid_ = -1;
        throw std::runtime_error("cannot start " + words[0] + ": " + std::strerror(rc));
    }
}

ServiceProcess::~ServiceProcess() {
    if (pid_ > 0) {
        kill();
    }
}

void ServiceProcess::kill() {
    if (pid_ <= 0) {
        return;
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
}

int ServiceProcess::terminate() {
    if (pid_ <= 0) {
        return -1;
    }
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        const pid_t done = ::waitpid(pid_, &status, WNOHANG);
        if (done == pid_) {
            pid_ = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill();
    return -1;
}

bool ServiceProcess::running() {
    if (pid_ <= 0) {
        return false;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
    }
    return true;
}

std::string ServiceProcess::output() const {
    std::ifstream in(log_file_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> ServiceProcess::lines() const {
    std::vector<std::string> out;
    std::istringstream in(output());
    std::string line;
    while (std::getline(in, line)) {
        out.push_back(line);
    }
    return out;
}

int ServiceProcess::ready_port() const {
    int port = 0;
    const std::string prefix = name_ + " ready ";
    for (const auto& line : lines()) {
        if (line.rfind(prefix, 0) == 0) {
            port = std::atoi(line.substr(line.rfind(':') + 1).c_str());
        }
    }
    return port;
}

int ServiceProcess::ready_count() const {
    int n = 0;
    const std::string prefix = name_ + " ready ";
    for (const auto& line : lines()) {
        n += line.rfind(prefix, 0) == 0 ? 1 : 0;
    }
    return n;
}

} // namespace pcj::test
