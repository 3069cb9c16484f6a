// posix_spawnp with stdin, stdout and stderr on memory files: no pipes to drain, so a chatty
// program cannot deadlock against us, and glibc reports an exec failure as the spawn's result.
#include "source/program_output.hpp"

#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>

extern char** environ;

namespace tandem::detail {

namespace {

struct MemoryFile {
    int fd = ::memfd_create("tandem-program", MFD_CLOEXEC);
    MemoryFile() = default;
    MemoryFile(const MemoryFile&) = delete;
    MemoryFile& operator=(const MemoryFile&) = delete;
    ~MemoryFile() { if (fd >= 0) ::close(fd); }
};

bool fill(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return ::lseek(fd, 0, SEEK_SET) == 0;
}

std::string read_back(int fd) {
    std::string bytes;
    if (::lseek(fd, 0, SEEK_SET) != 0) return bytes;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return bytes;
        bytes.append(buffer, static_cast<std::size_t>(n));
    }
}

// Our environment with `extra` ("NAME=value") added, a name given in `extra` replacing ours.
std::vector<std::string> merged_environment(const std::vector<std::string>& extra) {
    std::vector<std::string> out;
    for (char** entry = environ; entry && *entry; ++entry) {
        const std::string_view text(*entry);
        const std::string_view name = text.substr(0, text.find('='));
        bool replaced = false;
        for (const auto& e : extra) replaced = replaced || e.compare(0, name.size() + 1, std::string(name) + "=") == 0;
        if (!replaced) out.emplace_back(text);
    }
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
}

std::vector<char*> pointers(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

// Starts the program; 0 or the errno of the failure. With `own_group`, in a new process group.
int spawn(const std::vector<std::string>& argv, const MemoryFile (&streams)[3], pid_t& pid, char** envp,
          bool own_group) {
    std::vector<char*> args = pointers(argv);
    posix_spawn_file_actions_t actions;
    if (const int rc = posix_spawn_file_actions_init(&actions); rc != 0) return rc;
    posix_spawnattr_t attributes;
    if (const int rc = posix_spawnattr_init(&attributes); rc != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return rc;
    }
    int rc = 0;
    for (int target = 0; target < 3 && rc == 0; ++target)
        rc = posix_spawn_file_actions_adddup2(&actions, streams[target].fd, target);
    // Signals blocked on the engine's threads (SIGINT, SIGTERM) are not blocked in the program.
    sigset_t none;
    sigemptyset(&none);
    const short flags = static_cast<short>(POSIX_SPAWN_SETSIGMASK | (own_group ? POSIX_SPAWN_SETPGROUP : 0));
    if (rc == 0) rc = posix_spawnattr_setflags(&attributes, flags);
    if (rc == 0) rc = posix_spawnattr_setsigmask(&attributes, &none);
    if (rc == 0 && own_group) rc = posix_spawnattr_setpgroup(&attributes, 0);
    if (rc == 0) rc = posix_spawnp(&pid, args[0], &actions, &attributes, args.data(), envp);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    return rc;
}

ProgramOutput not_run(int error_number) {
    ProgramOutput result;
    result.start_error = error_number;
    return result;
}

// Waits for `pid`; past `deadline`, kills its process group and reaps it. -1: waitpid failed.
int wait_for(pid_t pid, std::optional<std::chrono::steady_clock::time_point> deadline, bool& timed_out) {
    int status = 0;
    for (;;) {
        const pid_t done = ::waitpid(pid, &status, deadline ? WNOHANG : 0);
        if (done == pid) return status;
        if (done < 0 && errno != EINTR) return -1;
        if (done == 0 && std::chrono::steady_clock::now() >= *deadline) {
            timed_out = true;
            ::killpg(pid, SIGKILL);
            deadline.reset();  // now wait for it to go
        } else if (done == 0) {
            ::usleep(10'000);
        }
    }
}

// After SIGKILL to the group: its members whose parent died are reparented to us when the
// engine is a child subreaper (as shipper and devloop are), and would stay zombies, one set per
// timed-out fetch, unless reaped here. Bounded: a member stuck in uninterruptible sleep is left.
void reap_group(pid_t pgid) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (;;) {
        while (::waitpid(-pgid, nullptr, WNOHANG) > 0) {
        }
        if (::kill(-pgid, 0) != 0 || std::chrono::steady_clock::now() >= deadline) return;
        ::usleep(10'000);
    }
}

}  // namespace

ProgramOutput run_program(const std::vector<std::string>& argv, std::string_view input) {
    return run_program(argv, input, ProgramLimits{});
}

ProgramOutput run_program(const std::vector<std::string>& argv, std::string_view input, const ProgramLimits& limits) {
    ProgramOutput result;
    const MemoryFile streams[3];  // stdin, stdout, stderr
    for (const auto& stream : streams)
        if (stream.fd < 0) return not_run(errno);
    if (argv.empty()) return not_run(EINVAL);
    if (!fill(streams[0].fd, input)) return not_run(errno ? errno : EIO);

    const std::vector<std::string> environment = merged_environment(limits.environment);
    std::vector<char*> envp = pointers(environment);
    const bool own_group = limits.timeout.has_value();
    pid_t pid = 0;
    if (const int rc = spawn(argv, streams, pid, limits.environment.empty() ? environ : envp.data(), own_group); rc != 0)
        return not_run(rc);
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (limits.timeout) deadline = std::chrono::steady_clock::now() + *limits.timeout;
    const int status = wait_for(pid, deadline, result.timed_out);
    if (status < 0) return not_run(errno);
    if (own_group) {
        ::killpg(pid, SIGKILL);  // nothing it started outlives it
        reap_group(pid);
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.out = read_back(streams[1].fd);
    result.err = read_back(streams[2].fd);
    return result;
}

}  // namespace tandem::detail
