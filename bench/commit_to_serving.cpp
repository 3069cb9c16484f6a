// Commit-to-serving latency for shipper: commits a new version.txt in the watched repository and
// polls GET /version on the service's port (through shipper's proxy) until it answers it; then
// splits each sample with the deploy's audit record. A benchmark, not a test.
//
//   tandem_commit_bench --repo DIR --port PORT --audit STATE/audit.jsonl [--commits 20]
//                       [--pause-ms 300] [--jitter-ms 1000] [--timeout-ms 30000] [--poll-us 1000]
//                       [--sync SHIPPER --state-dir STATE] [--seed N] [--samples] [--label NAME]
//
// Before the first commit it waits until the repository's HEAD has a succeeded record in the
// audit log (the bootstrap). Each round then sleeps --pause-ms plus a uniform random share of
// --jitter-ms (give the poll interval: commits then land at a random phase of the poll cycle),
// writes a fresh version string ("commit-PID-N") into version.txt and runs
// `git commit -q -a`. The clock starts when `git commit` returns (the commit exists from then
// on) and stops at the first HTTP answer whose body is the new version; every poll is a fresh
// connection closed with a reset, --poll-us apart. With --sync, `SHIPPER sync -o json
// --state-dir STATE` is started right after the commit, as a second process, and must report
// the deploy succeeded. The round ends when the commit's deploy record is in the audit log (so
// no two deploys overlap); from it come:
//   detect  = (record time - total_ms) - commit time: until the deploy started (fetch included)
//   build   = build_ms, rollout = rollout_ms
//   prep    = total_ms - build_ms - rollout_ms: materialize, load, plan, link the artifacts
//   done    = record time - commit time: until the deploy was recorded
// A commit not served within the timeout, or whose deploy did not succeed, is a failure; after 3
// failures in a row the rest count as failures unrun. The last line is machine-readable:
//   RESULT label=NAME commits=20 failures=0 total_median_ms=... total_p95_ms=... ...
#include <tandem/audit_log.hpp>
#include <tandem/utc_time.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::duration<double, std::milli>;

struct Options {
    std::string repo;
    int port = 0;
    std::string audit;
    int commits = 20;
    int pause_ms = 300;
    int jitter_ms = 0;
    int timeout_ms = 30000;
    int startup_timeout_ms = 60000;
    int poll_us = 1000;
    int give_up_after = 3;
    std::string shipper;  // --sync: the shipper binary
    std::string state_dir;
    unsigned seed = 0;
    bool print_samples = false;
    std::string label = "shipper";
};

[[noreturn]] void usage(const char* problem) {
    std::fprintf(stderr,
                 "tandem_commit_bench: %s\nusage: tandem_commit_bench --repo DIR --port PORT --audit FILE [--commits N]\n"
                 "       [--pause-ms MS] [--jitter-ms MS] [--timeout-ms MS] [--poll-us US]\n"
                 "       [--sync SHIPPER --state-dir DIR] [--seed N] [--samples] [--label NAME]\n",
                 problem);
    std::exit(2);
}

Options parse_options(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage("a flag is missing its value");
            return argv[++i];
        };
        if (flag == "--repo") options.repo = value();
        else if (flag == "--port") options.port = std::atoi(value());
        else if (flag == "--audit") options.audit = value();
        else if (flag == "--commits") options.commits = std::atoi(value());
        else if (flag == "--pause-ms") options.pause_ms = std::atoi(value());
        else if (flag == "--jitter-ms") options.jitter_ms = std::atoi(value());
        else if (flag == "--timeout-ms") options.timeout_ms = std::atoi(value());
        else if (flag == "--startup-timeout-ms") options.startup_timeout_ms = std::atoi(value());
        else if (flag == "--poll-us") options.poll_us = std::atoi(value());
        else if (flag == "--give-up-after") options.give_up_after = std::atoi(value());
        else if (flag == "--sync") options.shipper = value();
        else if (flag == "--state-dir") options.state_dir = value();
        else if (flag == "--seed") options.seed = static_cast<unsigned>(std::strtoul(value(), nullptr, 10));
        else if (flag == "--samples") options.print_samples = true;
        else if (flag == "--label") options.label = value();
        else usage("unknown flag");
    }
    if (options.repo.empty() || options.port <= 0 || options.audit.empty()) usage("--repo, --port and --audit are required");
    if (!options.shipper.empty() && options.state_dir.empty()) usage("--sync needs --state-dir");
    if (options.commits < 1) usage("--commits must be at least 1");
    return options;
}

// Runs argv to completion; its stdout and stderr in `output` when given, else to /dev/null.
int run(const std::vector<std::string>& args, std::string* output = nullptr) {
    int pipe_fds[2] = {-1, -1};
    if (output && ::pipe2(pipe_fds, O_CLOEXEC) != 0) return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int out = output ? pipe_fds[1] : ::open("/dev/null", O_WRONLY);
        ::dup2(out, 1);
        ::dup2(out, 2);
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execvp(argv[0], argv.data());
        ::_exit(127);
    }
    if (output) {
        ::close(pipe_fds[1]);
        char buffer[4096];
        for (;;) {
            const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            output->append(buffer, static_cast<std::size_t>(n));
        }
        ::close(pipe_fds[0]);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    return text;
}

// HEAD's commit id: the loose ref `git commit` just wrote, or `git rev-parse HEAD`.
std::string head_commit(const std::string& repo) {
    std::ifstream ref(repo + "/.git/refs/heads/main");
    std::string id;
    if (ref && std::getline(ref, id) && trimmed(id).size() == 40) return trimmed(id);
    id.clear();
    run({"git", "-C", repo, "rev-parse", "HEAD"}, &id);
    return trimmed(id);
}

void set_timeout(int fd, Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
    left = std::max<long long>(left, 1000);
    const timeval tv{static_cast<time_t>(left / 1000000), static_cast<suseconds_t>(left % 1000000)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// One GET /version on a fresh connection (as in save_to_serving.cpp): the body, trimmed, or
// nothing if the connection was refused, reset, timed out or the answer was not a 200.
std::optional<std::string> fetch_version(int port, Clock::time_point deadline) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::nullopt;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const linger reset{1, 0};  // close() sends RST: no TIME_WAIT on either side
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    set_timeout(fd, deadline);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::optional<std::string> result;
    static constexpr std::string_view request = "GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
        std::string response;
        char buffer[4096];
        for (;;) {
            const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n <= 0) break;
            response.append(buffer, static_cast<std::size_t>(n));
            const auto head_end = response.find("\r\n\r\n");
            if (head_end == std::string::npos) continue;
            const auto length_at = response.find("Content-Length: ");
            if (length_at == std::string::npos || length_at > head_end) continue;
            const auto length = std::strtoul(response.c_str() + length_at + 16, nullptr, 10);
            if (response.size() < head_end + 4 + length) continue;
            if (response.compare(0, 12, "HTTP/1.1 200") != 0) break;
            result = trimmed(response.substr(head_end + 4, length));
            break;
        }
    }
    ::close(fd);
    return result;
}

bool wait_for_version(const Options& options, const std::string& wanted, Clock::time_point deadline) {
    while (Clock::now() < deadline) {
        const auto answer = fetch_version(options.port, deadline);
        if (answer && *answer == wanted) return true;
        std::this_thread::sleep_for(std::chrono::microseconds(options.poll_us));
    }
    return false;
}

// The audit record of `commit`'s deploy (or bootstrap), once it is written.
std::optional<tandem::AuditEntry> wait_for_record(const Options& options, const std::string& commit,
                                                  Clock::time_point deadline) {
    for (;;) {
        // A read can meet a line being written; the next one sees it whole.
        if (auto records = tandem::AuditLog::read(options.audit); records.ok()) {
            for (auto it = records->rbegin(); it != records->rend(); ++it)
                if (const auto event = it->entry.event;
                    it->entry.commit == commit &&
                    (event == tandem::ChangeEvent::deploy || event == tandem::ChangeEvent::bootstrap ||
                     event == tandem::ChangeEvent::refused || event == tandem::ChangeEvent::policy_refusal))
                    return it->entry;
        }
        if (Clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

double percentile(std::vector<double> values, double p) {  // nearest rank
    if (values.empty()) return std::nan("");
    std::sort(values.begin(), values.end());
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
    return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

double ms_between(std::chrono::system_clock::time_point from, std::chrono::system_clock::time_point to) {
    return Millis(to - from).count();
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse_options(argc, argv);
    const std::string version_file = options.repo + "/version.txt";

    // The bootstrap: HEAD deployed and answering.
    const std::string first = head_commit(options.repo);
    const auto startup_deadline = Clock::now() + std::chrono::milliseconds(options.startup_timeout_ms);
    const auto bootstrap = wait_for_record(options, first, startup_deadline);
    if (!bootstrap || bootstrap->outcome != tandem::ChangeOutcome::succeeded) {
        std::fprintf(stderr, "tandem_commit_bench: %s: commit %s was %s\n", options.label.c_str(), first.substr(0, 12).c_str(),
                     bootstrap ? ("not deployed: " + std::string(to_string(bootstrap->outcome)) + " " + bootstrap->message).c_str()
                               : "not deployed in time (no audit record)");
        std::printf("RESULT label=%s commits=%d failures=%d total_median_ms=nan total_p95_ms=nan\n", options.label.c_str(),
                    options.commits, options.commits);
        return 1;
    }

    std::mt19937 random(options.seed ? options.seed : static_cast<unsigned>(::getpid()));
    std::uniform_int_distribution<int> jitter(0, std::max(0, options.jitter_ms - 1));
    std::map<std::string, std::vector<double>> samples;  // by column
    int failures = 0, in_a_row = 0;
    for (int i = 1; i <= options.commits; ++i) {
        if (options.give_up_after > 0 && in_a_row >= options.give_up_after) {
            std::printf("%s: %d failures in a row, giving up: the remaining %d commits count as failures\n",
                        options.label.c_str(), in_a_row, options.commits - i + 1);
            failures += options.commits - i + 1;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(options.pause_ms + (options.jitter_ms > 0 ? jitter(random) : 0)));
        const std::string version = "commit-" + std::to_string(::getpid()) + "-" + std::to_string(i);
        std::ofstream(version_file, std::ios::trunc) << version << "\n";

        const auto git_started = Clock::now();
        if (run({"git", "-C", options.repo, "commit", "-q", "-a", "-m", "version " + std::to_string(i)}) != 0) {
            std::fprintf(stderr, "tandem_commit_bench: git commit failed\n");
            return 1;
        }
        const auto start = Clock::now();
        const auto start_wall = std::chrono::system_clock::now();
        const double git_ms = Millis(start - git_started).count();

        // --sync: `shipper sync` as a second process, right after the commit.
        pid_t sync_pid = -1;
        int sync_out[2] = {-1, -1};
        if (!options.shipper.empty()) {
            if (::pipe2(sync_out, O_CLOEXEC) != 0) return 1;
            sync_pid = ::fork();
            if (sync_pid == 0) {
                ::dup2(sync_out[1], 1);
                ::dup2(sync_out[1], 2);
                ::execl(options.shipper.c_str(), options.shipper.c_str(), "sync", "-o", "json", "--state-dir",
                        options.state_dir.c_str(), static_cast<char*>(nullptr));
                ::_exit(127);
            }
            ::close(sync_out[1]);
        }
        const std::string commit = head_commit(options.repo);

        const auto deadline = start + std::chrono::milliseconds(options.timeout_ms);
        const bool served = wait_for_version(options, version, deadline);
        const double total_ms = Millis(Clock::now() - start).count();

        bool sync_ok = true;
        std::string sync_output;
        double sync_ms = std::nan("");
        if (sync_pid > 0) {
            char buffer[4096];
            for (;;) {  // EOF when sync exits: it prints one line
                const ssize_t n = ::read(sync_out[0], buffer, sizeof buffer);
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) break;
                sync_output.append(buffer, static_cast<std::size_t>(n));
            }
            ::close(sync_out[0]);
            int status = 0;
            ::waitpid(sync_pid, &status, 0);
            sync_ms = Millis(Clock::now() - start).count();
            sync_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                      sync_output.find("\"succeeded\"") != std::string::npos;
        }

        const auto record = wait_for_record(options, commit, Clock::now() + std::chrono::milliseconds(options.timeout_ms));
        const bool ok = served && sync_ok && record && record->outcome == tandem::ChangeOutcome::succeeded;
        failures += ok ? 0 : 1;
        in_a_row = ok ? 0 : in_a_row + 1;
        double detect = std::nan(""), done = std::nan(""), prep = std::nan("");
        if (record && record->total_ms >= 0) {
            done = ms_between(start_wall, record->time);
            detect = done - static_cast<double>(record->total_ms);
            prep = static_cast<double>(record->total_ms - std::max<std::int64_t>(record->build_ms, 0) -
                                       std::max<std::int64_t>(record->rollout_ms, 0));
        }
        if (ok) {
            samples["total"].push_back(total_ms);
            samples["detect"].push_back(detect);
            samples["build"].push_back(static_cast<double>(record->build_ms));
            samples["rollout"].push_back(static_cast<double>(record->rollout_ms));
            samples["prep"].push_back(prep);
            samples["done"].push_back(done);
            samples["git"].push_back(git_ms);
            if (sync_pid > 0) samples["sync"].push_back(sync_ms);
        }
        if (options.print_samples || !ok) {
            std::printf("%s%s commit %d (%s): %s total %.1f ms; detect %.1f, prep %.0f, build %lld, rollout %lld, done %.1f ms;"
                        " git commit %.1f ms",
                        ok ? "" : "FAILED ", options.label.c_str(), i, commit.substr(0, 12).c_str(), served ? "served," : "NOT SERVED,", total_ms,
                        detect, prep, record ? static_cast<long long>(record->build_ms) : -1LL,
                        record ? static_cast<long long>(record->rollout_ms) : -1LL, done, git_ms);
            if (sync_pid > 0) std::printf("; sync returned at %.1f ms", sync_ms);
            std::printf("\n");
            if (!ok && record) std::printf("  deploy %s: %s\n", to_string(record->outcome), record->message.c_str());
            if (!ok && !record) std::printf("  no audit record of the deploy\n");
            if (!sync_ok) std::printf("  sync said: %s\n", trimmed(sync_output).c_str());
        }
        std::fflush(stdout);
    }

    auto med = [&](const char* column) { return percentile(samples[column], 50); };
    std::printf("%s: %d commits, %d failures; total median %.1f ms, p95 %.1f ms; detect %.1f, prep %.1f, build %.1f,"
                " rollout %.1f ms (medians)\n",
                options.label.c_str(), options.commits, failures, med("total"), percentile(samples["total"], 95),
                med("detect"), med("prep"), med("build"), med("rollout"));
    std::printf("RESULT label=%s commits=%d failures=%d total_median_ms=%.1f total_p95_ms=%.1f total_min_ms=%.1f"
                " total_max_ms=%.1f detect_median_ms=%.1f detect_p95_ms=%.1f prep_median_ms=%.1f build_median_ms=%.1f"
                " rollout_median_ms=%.1f rollout_p95_ms=%.1f done_median_ms=%.1f git_median_ms=%.1f sync_median_ms=%.1f\n",
                options.label.c_str(), options.commits, failures, med("total"), percentile(samples["total"], 95),
                percentile(samples["total"], 0), percentile(samples["total"], 100), med("detect"),
                percentile(samples["detect"], 95), med("prep"), med("build"), med("rollout"),
                percentile(samples["rollout"], 95), med("done"), med("git"), med("sync"));
    return failures == 0 ? 0 : 1;
}
