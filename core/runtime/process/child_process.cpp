// Supervised child processes: fork/exec into a process group of their own, output read line by
// line on the event loop, exits reaped by one SIGCHLD listener per io_context, group stops.
#include "runtime/process/child_process.hpp"

#include "runtime/process/child_reaper.hpp"
#include "support/inherited_limits.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>

extern char** environ;

namespace tandem {

std::string ExitStatus::describe() const {
    if (signal != 0) {
        const char* abbrev = sigabbrev_np(signal);
        return abbrev ? std::string("killed by SIG") + abbrev : "killed by signal " + std::to_string(signal);
    }
    if (code < 0) return "exited with an unknown status";
    return "exited with code " + std::to_string(code);
}

}  // namespace tandem

namespace tandem::process {
namespace {

constexpr auto kPipeDrainBound = std::chrono::milliseconds(200);  // a grandchild may hold the pipes
constexpr auto kGroupPollInterval = std::chrono::milliseconds(20);

struct LineSplitter {
    std::string partial;

    template <class Emit>
    static void emit_pieces(std::string_view line, Emit& emit) {
        do {
            emit(line.substr(0, ChildProcess::kMaxLineBytes));
            line.remove_prefix(std::min(line.size(), ChildProcess::kMaxLineBytes));
        } while (!line.empty());
    }
    template <class Emit>
    void feed(std::string_view data, Emit& emit) {
        while (!data.empty()) {
            const auto newline = data.find('\n');
            if (newline == std::string_view::npos) {
                partial.append(data);
                while (partial.size() > ChildProcess::kMaxLineBytes) {
                    emit(std::string_view(partial).substr(0, ChildProcess::kMaxLineBytes));
                    partial.erase(0, ChildProcess::kMaxLineBytes);
                }
                return;
            }
            if (partial.empty()) {
                emit_pieces(data.substr(0, newline), emit);
            } else {
                partial.append(data.substr(0, newline));
                emit_pieces(partial, emit);
                partial.clear();
            }
            data.remove_prefix(newline + 1);
        }
    }
    template <class Emit>
    void finish(Emit& emit) {
        if (!partial.empty()) emit_pieces(partial, emit);
        partial.clear();
    }
};

struct OutputPipe {
    OutputPipe(asio::io_context& io, int fd, LogStream which) : descriptor(io, fd), stream(which) {}
    asio::posix::stream_descriptor descriptor;
    LogStream stream;
    LineSplitter lines;
    std::array<char, 64 * 1024> buffer{};
    bool eof = false;
};

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

}  // namespace


struct ChildProcess::State {
    State(asio::io_context& context, pid_t child, int out_fd, int err_fd)
        : io(context), reaper(asio::use_service<Reaper>(context)), pid(child),
          out(context, out_fd, LogStream::out), err(context, err_fd, LogStream::err),
          drain_timer(context), stop_timer(context), poll_timer(context) {}
    ~State();

    void read(OutputPipe& pipe);
    void on_leader_exit(ExitStatus exit_status);
    void close_pipes();
    void advance();  // delivers the exit and the stop once their conditions hold
    void signal_group(int signal_number);
    template <class Handler>
    auto guarded(Handler handler) {
        return [weak = self, this, handler](auto&&... args) {
            if (auto keep = weak.lock()) handler(args...);
        };
    }

    asio::io_context& io;
    Reaper& reaper;
    pid_t pid;
    std::weak_ptr<ChildProcess> self;
    LineHandler on_line;
    ExitHandler on_exit;
    OutputPipe out, err;
    asio::steady_timer drain_timer, stop_timer, poll_timer;
    ExitStatus status;
    bool leader_reaped = false, exit_delivered = false, draining = false;
    bool stopping = false, polling = false;
    bool group_gone = false;  // seen empty after the leader was reaped: the pgid may be reused
    std::vector<std::function<void()>> on_stopped;
};

ChildProcess::State::~State() {
    signal_group(SIGKILL);
    reaper.release(pid);
}

void ChildProcess::State::signal_group(int signal_number) {
    // While the leader is unreaped or any member lives, the pgid cannot name another group; once
    // the group was seen empty, it is never signalled again.
    if (!group_gone && leader_reaped && !group_alive(pid)) group_gone = true;
    if (!group_gone) ::killpg(pid, signal_number);
}

void ChildProcess::State::read(OutputPipe& pipe) {
    pipe.descriptor.async_read_some(asio::buffer(pipe.buffer), guarded([this, &pipe](const boost::system::error_code& error,
                                                                                      std::size_t bytes) {
        if (pipe.eof) return;  // closed by close_pipes()
        auto emit = [this, &pipe](std::string_view line) {
            if (on_line) on_line(pipe.stream, line);
        };
        if (bytes > 0) pipe.lines.feed(std::string_view(pipe.buffer.data(), bytes), emit);
        if (!error) return read(pipe);
        pipe.lines.finish(emit);
        pipe.eof = true;
        advance();
    }));
}

void ChildProcess::State::on_leader_exit(ExitStatus exit_status) {
    status = exit_status;
    leader_reaped = true;
    advance();
}

void ChildProcess::State::close_pipes() {
    for (OutputPipe* pipe : {&out, &err}) {
        if (pipe->eof) continue;
        pipe->eof = true;
        auto emit = [this, pipe](std::string_view line) {
            if (on_line) on_line(pipe->stream, line);
        };
        pipe->lines.finish(emit);
        boost::system::error_code ignored;
        pipe->descriptor.close(ignored);
    }
}

void ChildProcess::State::advance() {
    if (!exit_delivered && leader_reaped) {
        if (!out.eof || !err.eof) {
            if (!draining) {
                draining = true;
                drain_timer.expires_after(kPipeDrainBound);
                drain_timer.async_wait(guarded([this](const boost::system::error_code& error) {
                    if (error) return;
                    close_pipes();
                    advance();
                }));
            }
            return;
        }
        drain_timer.cancel();
        exit_delivered = true;
        if (auto handler = std::exchange(on_exit, nullptr)) handler(status);
    }
    if (!stopping || !exit_delivered || polling) return;
    if (group_alive(pid)) {
        // Grandchildren may linger in the group; the grace timer SIGKILLs them.
        polling = true;
        poll_timer.expires_after(kGroupPollInterval);
        poll_timer.async_wait(guarded([this](const boost::system::error_code& error) {
            polling = false;
            if (error) return;
            reaper.reap_all();  // reparented grandchildren of the group
            advance();
        }));
        return;
    }
    group_gone = true;
    stopping = false;
    stop_timer.cancel();
    for (auto& handler : std::exchange(on_stopped, {})) {
        if (handler) handler();
    }
}

namespace {

struct ExecFailure {
    enum Stage { user, chdir, exec } stage = user;
    int error = 0;
};

// The engine's environment, then the user's HOME, USER and LOGNAME, then launch.env: a later
// one replaces an earlier one of the same name.
std::vector<std::string> merged_environment(const LaunchSpec& launch) {
    auto added = launch.user ? user_environment(*launch.user) : std::vector<std::pair<std::string, std::string>>{};
    for (const auto& [key, value] : launch.env) {
        auto same = std::find_if(added.begin(), added.end(), [&key = key](const auto& kv) { return kv.first == key; });
        if (same != added.end()) added.erase(same);
        added.emplace_back(key, value);
    }
    std::vector<std::string> entries;
    for (char** entry = environ; entry && *entry; ++entry) {
        const std::string_view text(*entry);
        const auto name = text.substr(0, text.find('='));
        bool replaced = false;
        for (const auto& [key, value] : added) replaced = replaced || key == name;
        if (!replaced) entries.emplace_back(text);
    }
    for (const auto& [key, value] : added) entries.push_back(key + "=" + value);
    return entries;
}

std::vector<char*> pointers_to(std::vector<std::string>& strings) {
    std::vector<char*> pointers;
    for (auto& text : strings) pointers.push_back(text.data());
    pointers.push_back(nullptr);
    return pointers;
}

// In the forked child: only async-signal-safe calls until exec.
[[noreturn]] void exec_child(const LaunchSpec& launch, char** argv, char** envp, int devnull, int out_fd,
                             int err_fd, int status_fd, pid_t engine) {
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int signal_number = 1; signal_number < NSIG; ++signal_number) ::signal(signal_number, SIG_DFL);
    ::dup2(devnull, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    // Nothing of the engine's but the three streams may reach the service: an inherited proxy
    // socket would keep a client's connection open after the proxy closed it. CLOEXEC rather than
    // close, so that the status pipe still reports an exec failure.
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)  // kernels before 5.11
        for (int fd = 3; fd < 4096; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    restore_inherited_descriptor_limit();
    ExecFailure failure;
    failure.error = launch.user ? become_user(*launch.user) : 0;
    // After become_user: a change of credentials clears the parent-death signal. An engine that
    // died before this line is no longer our parent.
    if (failure.error == 0 && launch.die_with_engine &&
        (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != engine))
        ::_exit(127);
    if (failure.error == 0) {
        failure.stage = ExecFailure::chdir;
        if (launch.cwd.empty() || ::chdir(launch.cwd.c_str()) == 0) {
            failure.stage = ExecFailure::exec;
            ::execvpe(argv[0], argv, envp);
        }
        failure.error = errno;
    }
    [[maybe_unused]] auto written = ::write(status_fd, &failure, sizeof failure);
    ::_exit(127);
}

Error spawn_error(const LaunchSpec& launch, const std::string& what, int error_number) {
    return make_error(ErrorCode::io, what + " '" + (launch.argv.empty() ? std::string() : launch.argv[0]) +
                                         "': " + std::strerror(error_number));
}

// Waits for exec (the CLOEXEC status pipe closes) or its failure (the child writes errno).
std::optional<ExecFailure> wait_for_exec(int status_fd) {
    ExecFailure failure;
    ssize_t got;
    do {
        got = ::read(status_fd, &failure, sizeof failure);
    } while (got < 0 && errno == EINTR);
    if (got == static_cast<ssize_t>(sizeof failure)) return failure;
    return std::nullopt;
}

}  // namespace

Result<std::shared_ptr<ChildProcess>> ChildProcess::spawn(asio::io_context& io, const LaunchSpec& launch,
                                                          LineHandler on_line, ExitHandler on_exit) {
    if (launch.argv.empty()) return make_error(ErrorCode::invalid_value, "cannot start a process without argv");
    auto argv_strings = launch.argv;
    auto env_strings = merged_environment(launch);
    auto argv = pointers_to(argv_strings);
    auto envp = pointers_to(env_strings);
    Reaper& reaper = asio::use_service<Reaper>(io);  // listens for SIGCHLD before the fork

    int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, status_pipe[2] = {-1, -1};
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    auto close_all = [&] {
        for (int* fd : {&out_pipe[0], &out_pipe[1], &err_pipe[0], &err_pipe[1], &status_pipe[0], &status_pipe[1], &devnull})
            close_fd(*fd);
    };
    if (devnull < 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 ||
        ::pipe2(status_pipe, O_CLOEXEC) != 0) {
        const int error_number = errno;
        close_all();
        return spawn_error(launch, "cannot create pipes to start", error_number);
    }
    const pid_t engine = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int error_number = errno;
        close_all();
        return spawn_error(launch, "cannot fork to start", error_number);
    }
    if (pid == 0) exec_child(launch, argv.data(), envp.data(), devnull, out_pipe[1], err_pipe[1], status_pipe[1], engine);

    ::setpgid(pid, pid);  // also in the child: whichever runs first, the group exists before exec
    for (int* fd : {&out_pipe[1], &err_pipe[1], &status_pipe[1], &devnull}) close_fd(*fd);
    const auto failure = wait_for_exec(status_pipe[0]);
    close_fd(status_pipe[0]);
    if (failure) {
        close_all();
        ::waitpid(pid, nullptr, 0);  // not registered with the reaper yet: ours alone to wait for
        switch (failure->stage) {
            case ExecFailure::user:
                return spawn_error(launch, "cannot become user '" + launch.user->name + "' to start", failure->error);
            case ExecFailure::chdir:
                return spawn_error(launch, "cannot change to " + launch.cwd.string() + " to start", failure->error);
            case ExecFailure::exec: break;
        }
        return spawn_error(launch, "cannot start", failure->error);
    }

    auto state = std::make_unique<State>(io, pid, out_pipe[0], err_pipe[0]);
    State* raw = state.get();
    raw->on_line = std::move(on_line);
    raw->on_exit = std::move(on_exit);
    auto child = std::make_shared<ChildProcess>(std::move(state));
    raw->self = child;
    reaper.add(pid, raw->guarded([raw](ExitStatus status) { raw->on_leader_exit(status); }));
    raw->read(raw->out);
    raw->read(raw->err);
    return child;
}

ChildProcess::ChildProcess(std::unique_ptr<State> state) : state_(std::move(state)) {}
ChildProcess::~ChildProcess() = default;

pid_t ChildProcess::pid() const { return state_->pid; }
bool ChildProcess::running() const { return !state_->leader_reaped; }

void ChildProcess::stop(Duration grace, std::function<void()> on_stopped) {
    State& state = *state_;
    state.on_stopped.push_back(std::move(on_stopped));
    if (state.stopping) return;  // the first stop's timers hold
    state.stopping = true;
    state.signal_group(SIGTERM);
    state.stop_timer.expires_after(grace);
    state.stop_timer.async_wait(state.guarded([&state](const boost::system::error_code& error) {
        if (!error) state.signal_group(SIGKILL);
    }));
    asio::post(state.io, state.guarded([&state] { state.advance(); }));
}

void ChildProcess::kill() { state_->signal_group(SIGKILL); }

void become_subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

bool group_alive(pid_t pgid) {
    if (pgid <= 0) return false;
    return ::kill(-pgid, 0) == 0 || errno == EPERM;
}

}  // namespace tandem::process
