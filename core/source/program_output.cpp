// posix_spawnp with stdin, stdout and stderr on memory files: no pipes to drain, so a chatty
// program cannot deadlock against us, and glibc reports an exec failure as the spawn's result.
#include "source/program_output.hpp"

#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

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

// Starts the program; 0 or the errno of the failure.
int spawn(const std::vector<std::string>& argv, const MemoryFile (&streams)[3], pid_t& pid) {
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    if (const int rc = posix_spawn_file_actions_init(&actions); rc != 0) return rc;
    int rc = 0;
    for (int target = 0; target < 3 && rc == 0; ++target)
        rc = posix_spawn_file_actions_adddup2(&actions, streams[target].fd, target);
    if (rc == 0) rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    return rc;
}

ProgramOutput not_run(int error_number) {
    ProgramOutput result;
    result.start_error = error_number;
    return result;
}

}  // namespace

ProgramOutput run_program(const std::vector<std::string>& argv, std::string_view input) {
    ProgramOutput result;
    const MemoryFile streams[3];  // stdin, stdout, stderr
    for (const auto& stream : streams)
        if (stream.fd < 0) return not_run(errno);
    if (argv.empty()) return not_run(EINVAL);
    if (!fill(streams[0].fd, input)) return not_run(errno ? errno : EIO);

    pid_t pid = 0;
    if (const int rc = spawn(argv, streams, pid); rc != 0) return not_run(rc);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return not_run(errno);
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.out = read_back(streams[1].fd);
    result.err = read_back(streams[2].fd);
    return result;
}

}  // namespace tandem::detail
