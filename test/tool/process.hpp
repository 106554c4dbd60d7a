// Child: the `pcj` tool run by a test — with its own environment and standard input, its output
// read line by line while it runs, stopped by its PID, and always reaped.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace pcj::test {

class Child {
public:
    // Starts `argv` with the environment of the test plus `env` (a value "" removes the
    // variable) and `input` on its standard input.
    Child(std::vector<std::string> argv, std::map<std::string, std::string> env = {},
          std::string input = {});
    ~Child(); // SIGKILL if still running, then reaped
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    // Reads output until a complete stdout line satisfies `match` (true) or `timeout` passes
    // or the child ends (false).
    bool wait_for_line(const std::function<bool(const std::string&)>& match,
                       std::chrono::milliseconds timeout);
    // Reads everything until the child ends (or `timeout`, then SIGKILL); returns its exit
    // status (-1 when killed or it ended by a signal).
    int wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
    void signal(int sig);

    const std::vector<std::string>& lines() const { return lines_; } // stdout, complete lines
    const std::string& out() const { return out_; }
    const std::string& err() const { return err_; }

private:
    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    bool reaped_ = false;
    int status_ = -1;
    std::string out_, err_, partial_;
    std::vector<std::string> lines_;
    // One poll for output, at most `timeout`; false when both pipes are closed.
    bool pump(std::chrono::milliseconds timeout);
};

// The result of a command run to its end.
struct Result {
    int status = -1;
    std::string out;
    std::string err;
};

Result run_tool(std::vector<std::string> args, std::map<std::string, std::string> env = {},
                std::string input = {});

// The `pcj` binary under test ($PCJ_TOOL, set by meson).
std::string tool_path();

} // namespace pcj::test
