// The SIGCHLD side of child processes: one Reaper per io_context reaps the process groups
// of its own children and reports each group leader's exit.
#pragma once

#include "runtime/process/child_process.hpp"

#include <sys/wait.h>

#include <csignal>
#include <functional>
#include <map>
#include <mutex>
#include <optional>

namespace tandem::process {

// Reaps the children of one io_context. It waits only with waitid(P_PGID) on the process groups
// of its own children, so it never takes the exit status of a process that other code waits for;
// reparented grandchildren (when the engine is a subreaper) are reaped if they stayed in their
// service's group. A ChildProcess registers its pid; entries outlive it until nothing is left.
class Reaper : public asio::execution_context::service {
public:
    static inline asio::execution_context::id id;
    using LeaderExit = std::function<void(ExitStatus)>;

    explicit Reaper(asio::io_context& io) : service(io), io_(io), signals_(io, SIGCHLD) {
        restart_interrupted_calls();
        listen();
    }

    void add(pid_t pgid, LeaderExit on_leader_exit) {
        {
            std::lock_guard lock(mutex_);
            groups_[pgid] = Group{std::move(on_leader_exit), true};  // a reused pid replaces its dead namesake
        }
        // The child may have exited before it was registered: look once more.
        asio::post(io_, [this] { reap_all(); });
    }
    // The ChildProcess is gone: no one listens for its leader any more, but members left in the
    // group are still reaped until none is.
    void release(pid_t pgid) {
        {
            std::lock_guard lock(mutex_);
            if (auto it = groups_.find(pgid); it != groups_.end()) it->second = Group{};
        }
        asio::post(io_, [this] { reap_all(); });
    }
    void reap_all();

private:
    void shutdown() override { signals_.cancel(); }
    void listen() {
        signals_.async_wait([this](const boost::system::error_code& error, int) {
            if (error) return;
            reap_all();
            listen();
        });
    }
    // Asio installs its SIGCHLD handler without SA_RESTART, so every child exit would make blocking
    // calls on other threads fail with EINTR. Same handler, restarting calls, no stop/continue wakeups.
    static void restart_interrupted_calls() {
        struct sigaction action {};
        if (::sigaction(SIGCHLD, nullptr, &action) != 0 || action.sa_handler == SIG_DFL) return;
        action.sa_flags |= SA_RESTART | SA_NOCLDSTOP;
        ::sigaction(SIGCHLD, &action, nullptr);
    }
    // Reaps every zombie of group `pgid`; returns true when no child of ours is left in it.
    static bool reap_group(pid_t pgid, std::optional<ExitStatus>& leader_status);

    asio::io_context& io_;
    asio::signal_set signals_;
    std::mutex mutex_;
    struct Group {
        LeaderExit on_leader_exit;  // empty once called
        bool owner_alive = false;   // its ChildProcess still exists
    };
    std::map<pid_t, Group> groups_;
};

ExitStatus status_from(const siginfo_t& info);

}  // namespace tandem::process
