// One supervised child process, leader of its own process group: spawned with its argv, env
// and working directory, its output read line by line, its exit reported, and stopped with
// SIGTERM to the whole group, then SIGKILL after a grace period.
#pragma once

#include "runtime/log_store.hpp"
#include "support/asio.hpp"
#include "support/system_user.hpp"

#include <tandem/error.hpp>
#include <tandem/runtime.hpp>
#include <tandem/spec.hpp>

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tandem::process {

struct LaunchSpec {
    std::vector<std::string> argv;                            // argv[0] is looked up in PATH
    std::vector<std::pair<std::string, std::string>> env;     // added to (or replacing) the engine's own
    std::filesystem::path cwd;                                // empty: the engine's
    // Run as this user (its groups, then its uid, set in the child before exec; HOME, USER and
    // LOGNAME from it unless `env` sets them); empty: as the engine's user.
    std::optional<SystemUser> user;
    // SIGKILL the child when the engine's thread that started it ends (PR_SET_PDEATHSIG): for
    // commands, which are worthless without the engine. Only the child itself; its group is
    // stopped by the next start's sweep (runtime_state.hpp).
    bool die_with_engine = false;
};

class ChildProcess : public std::enable_shared_from_this<ChildProcess> {
public:
    // Called on the io_context's thread with each complete line (a line longer than
    // kMaxLineBytes is delivered in pieces), without its newline.
    using LineHandler = std::function<void(LogStream, std::string_view line)>;
    // Called once on the io_context's thread when the process group leader has exited and
    // both output streams are drained.
    using ExitHandler = std::function<void(ExitStatus)>;

    static constexpr std::size_t kMaxLineBytes = 16 * 1024;

    // fork/exec: the child gets its own process group (pgid == pid), stdin from /dev/null,
    // stdout and stderr to pipes the engine reads. An exec failure is an error here, not an
    // exit later.
    static Result<std::shared_ptr<ChildProcess>> spawn(asio::io_context& io, const LaunchSpec& launch,
                                                       LineHandler on_line, ExitHandler on_exit);

    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess();  // kills the group with SIGKILL if it is still running

    pid_t pid() const;  // also the process group id
    bool running() const;

    // SIGTERM to the group; SIGKILL to the group after `grace` if any member is left. `on_stopped`
    // runs once the leader is reaped and no process of the group is left.
    void stop(Duration grace, std::function<void()> on_stopped = {});
    void kill();  // SIGKILL to the group now

    struct State;
    explicit ChildProcess(std::unique_ptr<State> state);

private:
    std::unique_ptr<State> state_;
};

// Makes the engine a child subreaper (PR_SET_CHILD_SUBREAPER), so that grandchildren whose
// parent died are reparented to it and reaped instead of lingering. Call once at start.
void become_subreaper();

// True if any process is still in process group `pgid`.
bool group_alive(pid_t pgid);

}  // namespace tandem::process
