// ServiceProcess: one examples/cluster_service process, started and ended by its PID, its
// output in a file the test reads.
#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

namespace pcj::test {

class ServiceProcess {
public:
    // Runs PCJ_EXAMPLES_DIR/cluster_service ARGS... with stdout and stderr in `log_file`.
    ServiceProcess(std::string name, const std::vector<std::string>& args, std::string log_file);
    ~ServiceProcess(); // SIGKILL when still running
    ServiceProcess(const ServiceProcess&) = delete;
    ServiceProcess& operator=(const ServiceProcess&) = delete;

    const std::string& name() const { return name_; }
    pid_t pid() const { return pid_; }
    // SIGKILL and reap: the process dies as in a crash.
    void kill();
    // SIGTERM, and wait (up to 10 s) for its exit; returns its exit status, -1 if it had to be
    // killed.
    int terminate();
    bool running();
    // Its output so far, line by line.
    std::vector<std::string> lines() const;
    std::string output() const;
    // The port of the last "NAME ready HOST:PORT" line, 0 when none.
    int ready_port() const;
    // How many "ready" lines it printed.
    int ready_count() const;

private:
    std::string name_;
    std::string log_file_;
    pid_t pid_ = -1;
};

} // namespace pcj::test
