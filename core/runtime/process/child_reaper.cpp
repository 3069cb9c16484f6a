// Reaping of child process groups on SIGCHLD, without taking statuses that others wait for.
#include "runtime/process/child_reaper.hpp"

#include <cerrno>

namespace tandem::process {

ExitStatus status_from(const siginfo_t& info) {
    ExitStatus status;
    if (info.si_code == CLD_EXITED) {
        status.code = info.si_status;
    } else {
        status.signal = info.si_status;
    }
    return status;
}

bool Reaper::reap_group(pid_t pgid, std::optional<ExitStatus>& leader_status) {
    for (;;) {
        siginfo_t info{};
        if (waitid(P_PGID, static_cast<id_t>(pgid), &info, WEXITED | WNOHANG) != 0) {
            if (errno == EINTR) continue;
            return errno == ECHILD;
        }
        if (info.si_pid == 0) return false;  // children left, none exited yet
        if (info.si_pid == pgid) leader_status = status_from(info);
    }
}

void Reaper::reap_all() {
    std::vector<std::pair<LeaderExit, ExitStatus>> exits;
    {
        std::lock_guard lock(mutex_);
        for (auto it = groups_.begin(); it != groups_.end();) {
            std::optional<ExitStatus> leader_status;
            const bool none_left = reap_group(it->first, leader_status);
            auto& on_leader_exit = it->second.on_leader_exit;
            // No child left and no status seen: someone else's waitpid(-1) took the leader's.
            if (none_left && !leader_status) leader_status = ExitStatus{};
            if (leader_status && on_leader_exit) exits.emplace_back(std::exchange(on_leader_exit, nullptr), *leader_status);
            it = (none_left && !it->second.owner_alive) ? groups_.erase(it) : std::next(it);
        }
    }
    // Outside the lock: handlers may spawn more children.
    for (auto& [on_exit, status] : exits) on_exit(status);
}

}  // namespace tandem::process
