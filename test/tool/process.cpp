// Child: posix_spawn with pipes, poll for output, reaped by its PID.
#include "process.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace pcj::test {

std::string tool_path() {
    const char* path = std::getenv("PCJ_TOOL");
    REQUIRE(path != nullptr); // set by meson for the tool suite
    return path;
}

Child::Child(std::vector<std::string> argv, std::map<std::string, std::string> env,
             std::string input) {
    // Never the user's own ~/.config/pcj/config.toml: a test names its config file.
    env.try_emplace("XDG_CONFIG_HOME", "/nonexistent/pcj-tests");
    std::map<std::string, std::string> all;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string kv = *e;
        const auto eq = kv.find('=');
        all[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    }
    for (const auto& [k, v] : env) {
        if (v.empty()) {
            all.erase(k);
        } else {
            all[k] = v;
        }
    }
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : all) {
        env_strings.push_back(k + "=" + v);
    }
    std::vector<char*> envp, args;
    for (auto& s : env_strings) {
        envp.push_back(s.data());
    }
    envp.push_back(nullptr);
    for (auto& s : argv) {
        args.push_back(s.data());
    }
    args.push_back(nullptr);

    int in[2], out[2], err[2];
    REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    // A new session: no controlling terminal, so the tool can never prompt for a password.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    const int rc = ::posix_spawn(&pid_, args[0], &actions, &attr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    REQUIRE(rc == 0);
    // Small inputs only: they fit in the pipe's buffer, so this cannot block.
    if (!input.empty()) {
        REQUIRE(::write(in[1], input.data(), input.size()) == static_cast<ssize_t>(input.size()));
    }
    ::close(in[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
}

Child::~Child() {
    if (!reaped_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    if (out_fd_ >= 0) {
        ::close(out_fd_);
    }
    if (err_fd_ >= 0) {
        ::close(err_fd_);
    }
}

bool Child::pump(std::chrono::milliseconds timeout) {
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    if (out_fd_ < 0 && err_fd_ < 0) {
        return false;
    }
    const int n = ::poll(fds, 2, static_cast<int>(timeout.count()));
    if (n <= 0) {
        return true;
    }
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
            continue;
        }
        const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
        int& fd = i == 0 ? out_fd_ : err_fd_;
        if (got <= 0) {
            ::close(fd);
            fd = -1;
            continue;
        }
        if (i == 1) {
            err_.append(buf, static_cast<std::size_t>(got));
            continue;
        }
        out_.append(buf, static_cast<std::size_t>(got));
        partial_.append(buf, static_cast<std::size_t>(got));
        for (auto nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n')) {
            lines_.push_back(partial_.substr(0, nl));
            partial_.erase(0, nl + 1);
        }
    }
    return out_fd_ >= 0 || err_fd_ >= 0;
}

bool Child::wait_for_line(const std::function<bool(const std::string&)>& match,
                          std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t seen = 0;
    while (true) {
        for (; seen < lines_.size(); ++seen) {
            if (match(lines_[seen])) {
                return true;
            }
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !pump(std::min(left, std::chrono::milliseconds(100)))) {
            return false;
        }
    }
}

int Child::wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pump(std::chrono::milliseconds(100))) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid_, SIGKILL);
            break;
        }
    }
    if (!reaped_) {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        reaped_ = true;
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return status_;
}

void Child::signal(int sig) {
    if (!reaped_) {
        ::kill(pid_, sig);
    }
}

Result run_tool(std::vector<std::string> args, std::map<std::string, std::string> env,
                std::string input) {
    args.insert(args.begin(), tool_path());
    Child child(std::move(args), std::move(env), std::move(input));
    Result r;
    r.status = child.wait();
    r.out = child.out();
    r.err = child.err();
    return r;
}

} // namespace pcj::test
