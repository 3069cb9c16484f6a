// Health probes (tcp, http, exec) on the event loop, the thresholds that turn single results into
// a replica's health, and the monitor that runs a probe on a schedule.
#include "runtime/process/health_probe.hpp"

#include "support/inherited_limits.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <linux/close_range.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <istream>
#include <string_view>
#include <utility>
#include <vector>

extern char** environ;

namespace tandem::process {

using asio::ip::tcp;
using boost::system::error_code;

namespace {

std::string describe_timeout(Duration timeout) {
    return "timed out after " + std::to_string(timeout.count()) + "ms";
}

// One network check in flight: its socket, its deadline and the callback it owes, exactly once.
// Shared by the handlers so that the probe object may go away while a check runs.
struct NetworkCheck {
    NetworkCheck(asio::io_context& io, std::function<void(ProbeOutcome)> on_done)
        : socket(io), deadline(io), done(std::move(on_done)) {}

    tcp::socket socket;
    asio::steady_timer deadline;
    asio::streambuf response{8 * 1024};
    std::string request;
    std::function<void(ProbeOutcome)> done;
    bool finished = false;

    void finish(bool ok, std::string detail) {
        if (finished) return;
        finished = true;
        deadline.cancel();
        error_code ignored;
        socket.close(ignored);
        done(ProbeOutcome{ok, std::move(detail)});
    }
};

std::shared_ptr<NetworkCheck> start_network_check(asio::io_context& io, Duration timeout,
                                                  std::function<void(ProbeOutcome)> done) {
    auto check = std::make_shared<NetworkCheck>(io, std::move(done));
    check->deadline.expires_after(timeout);
    check->deadline.async_wait([check, timeout](const error_code& ec) {
        if (!ec) check->finish(false, describe_timeout(timeout));
    });
    return check;
}

class TcpProbe : public HealthProbe {
public:
    TcpProbe(asio::io_context& io, Duration timeout, tcp::endpoint to) : io_(io), timeout_(timeout), to_(to) {}

    void check(std::function<void(ProbeOutcome)> done) override {
        auto check = start_network_check(io_, timeout_, std::move(done));
        check->socket.async_connect(to_, [check](const error_code& ec) {
            if (ec) return check->finish(false, ec.message());
            check->finish(true, "connected");
        });
    }

private:
    asio::io_context& io_;
    Duration timeout_;
    tcp::endpoint to_;
};

// "HTTP/1.1 200 OK" -> 200; -1 if the line is not a status line.
int parse_status_line(std::string_view line) {
    if (line.substr(0, 5) != "HTTP/") return -1;
    auto space = line.find(' ');
    if (space == std::string_view::npos || line.size() < space + 4) return -1;
    int status = 0;
    for (char c : line.substr(space + 1, 3)) {
        if (c < '0' || c > '9') return -1;
        status = status * 10 + (c - '0');
    }
    return status;
}

class HttpProbe : public HealthProbe {
public:
    HttpProbe(asio::io_context& io, const HealthSpec& spec, tcp::endpoint to) : io_(io), spec_(spec), to_(to) {}

    void check(std::function<void(ProbeOutcome)> done) override {
        auto check = start_network_check(io_, spec_.timeout, std::move(done));
        check->request = "GET " + spec_.path + " HTTP/1.0\r\nHost: " + to_.address().to_string() + ":" +
                         std::to_string(to_.port()) + "\r\nUser-Agent: tandem-health\r\nConnection: close\r\n\r\n";
        int expect = spec_.expect_status;
        check->socket.async_connect(to_, [check, expect](const error_code& ec) {
            if (ec) return check->finish(false, ec.message());
            asio::async_write(check->socket, asio::buffer(check->request),
                              [check, expect](const error_code& wec, std::size_t) {
                                  if (wec) return check->finish(false, "sending the request: " + wec.message());
                                  read_status(check, expect);
                              });
        });
    }

private:
    static void read_status(const std::shared_ptr<NetworkCheck>& check, int expect) {
        asio::async_read_until(check->socket, check->response, "\r\n",
                               [check, expect](const error_code& ec, std::size_t) {
                                   if (ec) return check->finish(false, "no HTTP status line: " + ec.message());
                                   std::istream in(&check->response);
                                   std::string line;
                                   std::getline(in, line);
                                   int status = parse_status_line(line);
                                   if (status < 0) return check->finish(false, "not an HTTP response");
                                   check->finish(status == expect, "HTTP " + std::to_string(status));
                               });
    }

    asio::io_context& io_;
    HealthSpec spec_;
    tcp::endpoint to_;
};

// argv and envp prepared before fork(), so the child only calls async-signal-safe functions.
struct ExecImage {
    std::vector<std::string> strings;
    std::vector<char*> argv, envp;
};

ExecImage prepare_exec(const std::vector<std::string>& command,
                       const std::vector<std::pair<std::string, std::string>>& env) {
    ExecImage image;
    std::vector<std::string> environment;
    for (char** entry = environ; *entry; ++entry) {
        std::string_view text(*entry);
        std::string_view name = text.substr(0, text.find('='));
        bool replaced = std::any_of(env.begin(), env.end(), [&](const auto& kv) { return kv.first == name; });
        if (!replaced) environment.emplace_back(text);
    }
    for (const auto& [name, value] : env) environment.push_back(name + "=" + value);
    image.strings = command;
    image.strings.insert(image.strings.end(), environment.begin(), environment.end());
    for (std::size_t i = 0; i < command.size(); ++i) image.argv.push_back(image.strings[i].data());
    image.argv.push_back(nullptr);
    for (std::size_t i = command.size(); i < image.strings.size(); ++i) image.envp.push_back(image.strings[i].data());
    image.envp.push_back(nullptr);
    return image;
}

// One exec check in flight: the child, polled with waitpid(WNOHANG) on a timer (no SIGCHLD
// handler, so it coexists with whatever else the engine does with children).
struct ExecCheck : std::enable_shared_from_this<ExecCheck> {
    ExecCheck(asio::io_context& io, pid_t child, Duration limit, std::function<void(ProbeOutcome)> on_done)
        : poll(io), pid(child), timeout(limit), started(std::chrono::steady_clock::now()), done(std::move(on_done)) {}

    asio::steady_timer poll;
    pid_t pid;
    Duration timeout;
    std::chrono::steady_clock::time_point started;
    std::chrono::milliseconds pause{1};
    std::function<void(ProbeOutcome)> done;
    bool reported = false;

    void report(bool ok, std::string detail) {
        if (reported) return;
        reported = true;
        done(ProbeOutcome{ok, std::move(detail)});
    }

    void wait() {
        siginfo_t info{};
        // Peek first (WNOWAIT): while the leader is an unreaped zombie its group id cannot be
        // reused, so killing what the probe left behind in its group is safe.
        if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
            return report(false, std::string("lost the probe's exit status: ") + std::strerror(errno));
        if (info.si_pid == pid) return reap(info);
        if (!reported && std::chrono::steady_clock::now() - started >= timeout) {
            ::killpg(pid, SIGKILL);
            report(false, describe_timeout(timeout));
        }
        // Short at first so fast commands report fast, then gentler; keep going until reaped.
        pause = std::min(pause * 2, std::chrono::milliseconds(20));
        poll.expires_after(pause);
        poll.async_wait([self = shared_from_this()](const error_code&) { self->wait(); });
    }

    void reap(const siginfo_t& info) {
        ::killpg(pid, SIGKILL);  // anything the command started and left running
        ::waitpid(pid, nullptr, WNOHANG);
        // Members reparented to us (when the engine is a subreaper) die at once: reap them too.
        while (::waitpid(-pid, nullptr, WNOHANG) > 0) {
        }
        if (info.si_code == CLD_EXITED)
            return report(info.si_status == 0, "exit code " + std::to_string(info.si_status));
        report(false, std::string("killed by signal ") + std::to_string(info.si_status));
    }
};

class ExecProbe : public HealthProbe {
public:
    ExecProbe(asio::io_context& io, const HealthSpec& spec, std::filesystem::path cwd,
              std::vector<std::pair<std::string, std::string>> env, std::optional<SystemUser> user)
        : io_(io), spec_(spec), cwd_(std::move(cwd)), env_(std::move(env)), user_(std::move(user)) {
        if (!user_) return;
        auto defaults = user_environment(*user_);  // unless env sets them
        for (auto& entry : defaults)
            if (std::none_of(env_.begin(), env_.end(), [&](const auto& kv) { return kv.first == entry.first; }))
                env_.push_back(std::move(entry));
    }

    void check(std::function<void(ProbeOutcome)> done) override {
        if (spec_.command.empty()) return post(std::move(done), "no command to run");
        ExecImage image = prepare_exec(spec_.command, env_);
        std::string cwd = cwd_.string();
        int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        const pid_t engine = ::getpid();
        pid_t pid = ::fork();
        if (pid == 0) run_child(image, cwd, devnull, user_ ? &*user_ : nullptr, engine);
        if (devnull >= 0) ::close(devnull);
        if (pid < 0) return post(std::move(done), std::string("fork failed: ") + std::strerror(errno));
        ::setpgid(pid, pid);  // also in the child: whichever runs first
        auto check = std::make_shared<ExecCheck>(io_, pid, spec_.timeout, std::move(done));
        // The first look comes from the loop, so `done` is never called inside check().
        asio::post(io_, [check] { check->wait(); });
    }

private:
    [[noreturn]] static void run_child(ExecImage& image, const std::string& cwd, int devnull, const SystemUser* user,
                                       pid_t engine) {
        ::setpgid(0, 0);
        if (devnull >= 0) {
            ::dup2(devnull, STDIN_FILENO);
            ::dup2(devnull, STDOUT_FILENO);
            ::dup2(devnull, STDERR_FILENO);
        }
        // None of the engine's sockets may reach the probe command.
        if (::close_range(3, ~0U, 0) != 0)
            for (int fd = 3; fd < 4096; ++fd) ::close(fd);
        restore_inherited_descriptor_limit();
        if (user && become_user(*user) != 0) ::_exit(126);
        // Dies with the engine (a probe that hangs must not outlive a SIGKILLed engine); after
        // become_user, which clears it. An engine already gone is no longer our parent.
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != engine) ::_exit(126);
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
        environ = image.envp.data();
        ::execvp(image.argv[0], image.argv.data());
        ::_exit(127);
    }

    void post(std::function<void(ProbeOutcome)> done, std::string detail) {
        asio::post(io_, [done = std::move(done), detail = std::move(detail)] { done(ProbeOutcome{false, detail}); });
    }

    asio::io_context& io_;
    HealthSpec spec_;
    std::filesystem::path cwd_;
    std::vector<std::pair<std::string, std::string>> env_;
    std::optional<SystemUser> user_;
};

}  // namespace

std::unique_ptr<HealthProbe> make_probe(asio::io_context& io, const HealthSpec& spec, int port,
                                        const std::filesystem::path& cwd,
                                        const std::vector<std::pair<std::string, std::string>>& env,
                                        const std::optional<SystemUser>& user) {
    if (spec.kind == ProbeKind::exec) return std::make_unique<ExecProbe>(io, spec, cwd, env, user);
    return make_network_probe(io, spec, asio::ip::address_v4::loopback(), port);
}

std::unique_ptr<HealthProbe> make_network_probe(asio::io_context& io, const HealthSpec& spec,
                                                const asio::ip::address& address, int port) {
    const tcp::endpoint to(address, static_cast<unsigned short>(port));
    if (spec.kind == ProbeKind::http) return std::make_unique<HttpProbe>(io, spec, to);
    return std::make_unique<TcpProbe>(io, spec.timeout, to);
}

}  // namespace tandem::process
