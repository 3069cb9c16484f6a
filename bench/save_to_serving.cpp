// Save-to-serving latency: writes a new version to a file, polls GET /version until it answers it.
//
//   tandem_save_bench --file version.txt --port 8080 [--saves 30] [--pause-ms 300]
//                     [--timeout-ms 10000] [--give-up-after 3] [--write inplace|rename] [--samples]
//                     [--label NAME]
//
// Each save writes a fresh version string ("save-PID-N") the way an editor that saves in place
// does (VS Code, nano, vim with backupcopy=yes): open(O_WRONLY|O_TRUNC), write, close. With
// `--write rename` it writes a temporary file beside it and renames it over the target instead
// (vim's default, JetBrains' "safe write"). The clock starts just before the open and stops at
// the first HTTP answer whose body is the new version. Every poll is a fresh TCP connection to
// 127.0.0.1:PORT, closed with a reset after the answer so that no TIME_WAIT sockets pile up;
// between polls it sleeps 200 us. A save that is not served within the timeout is a failure;
// after --give-up-after failures in a row the remaining saves are counted as failures unrun.
// The last line of output is machine-readable:
//   RESULT label=NAME saves=30 failures=0 median_ms=... p95_ms=... min_ms=... max_ms=...
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::duration<double, std::milli>;

struct Options {
    std::string file;
    int port = 0;
    int saves = 30;
    int pause_ms = 300;
    int timeout_ms = 10000;
    int startup_timeout_ms = 30000;
    int give_up_after = 3;  // consecutive failures
    bool rename_write = false;
    bool print_samples = false;
    std::string label = "service";
};

[[noreturn]] void usage(const char* problem) {
    std::fprintf(stderr,
                 "tandem_save_bench: %s\nusage: tandem_save_bench --file PATH --port PORT [--saves N] [--pause-ms MS]\n"
                 "       [--timeout-ms MS] [--startup-timeout-ms MS] [--give-up-after N] [--write inplace|rename]\n"
                 "       [--samples] [--label NAME]\n",
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
        if (flag == "--file") options.file = value();
        else if (flag == "--port") options.port = std::atoi(value());
        else if (flag == "--saves") options.saves = std::atoi(value());
        else if (flag == "--pause-ms") options.pause_ms = std::atoi(value());
        else if (flag == "--timeout-ms") options.timeout_ms = std::atoi(value());
        else if (flag == "--startup-timeout-ms") options.startup_timeout_ms = std::atoi(value());
        else if (flag == "--give-up-after") options.give_up_after = std::atoi(value());
        else if (flag == "--samples") options.print_samples = true;
        else if (flag == "--label") options.label = value();
        else if (flag == "--write") {
            const std::string_view how = value();
            if (how != "inplace" && how != "rename") usage("--write takes inplace or rename");
            options.rename_write = how == "rename";
        } else usage("unknown flag");
    }
    if (options.file.empty() || options.port <= 0) usage("--file and --port are required");
    if (options.saves < 1) usage("--saves must be at least 1");
    return options;
}

void write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            std::perror("tandem_save_bench: write");
            std::exit(1);
        }
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

void save(const Options& options, const std::string& content) {
    if (options.rename_write) {
        const std::string temporary = options.file + ".tandem-bench-tmp";
        const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) usage("cannot write the temporary file");
        write_all(fd, content);
        ::close(fd);
        if (std::rename(temporary.c_str(), options.file.c_str()) != 0) usage("rename failed");
        return;
    }
    const int fd = ::open(options.file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) usage("cannot write the version file");
    write_all(fd, content);
    ::close(fd);
}

void set_timeout(int fd, Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
    left = std::max<long long>(left, 1000);
    const timeval tv{static_cast<time_t>(left / 1000000), static_cast<suseconds_t>(left % 1000000)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// One GET /version on a fresh connection: the body, trimmed, or nothing if the connection was
// refused, reset, timed out or the answer was not a 200.
std::optional<std::string> fetch_version(int port, Clock::time_point deadline) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::nullopt;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const linger reset{1, 0};  // close() sends RST: no TIME_WAIT on either side, ports never run out
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
            // Stop as soon as the body is complete (Content-Length), without waiting for EOF.
            const auto length_at = response.find("Content-Length: ");
            if (length_at == std::string::npos || length_at > head_end) continue;
            const auto length = std::strtoul(response.c_str() + length_at + 16, nullptr, 10);
            if (response.size() < head_end + 4 + length) continue;
            if (response.compare(0, 12, "HTTP/1.1 200") != 0) break;
            std::string body = response.substr(head_end + 4, length);
            while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' ')) body.pop_back();
            result = std::move(body);
            break;
        }
    }
    ::close(fd);
    return result;
}

// Polls until the service answers `wanted` (or anything, if `wanted` is empty). Returns false on timeout.
bool wait_for(const Options& options, const std::string& wanted, Clock::time_point deadline, long& polls) {
    while (Clock::now() < deadline) {
        ++polls;
        const auto answer = fetch_version(options.port, deadline);
        if (answer && (wanted.empty() || *answer == wanted)) return true;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return false;
}

double percentile(const std::vector<double>& sorted, double p) {  // nearest rank
    if (sorted.empty()) return std::nan("");
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse_options(argc, argv);
    long polls = 0;
    if (!wait_for(options, "", Clock::now() + std::chrono::milliseconds(options.startup_timeout_ms), polls)) {
        std::fprintf(stderr, "tandem_save_bench: %s: nothing answers on 127.0.0.1:%d\n", options.label.c_str(), options.port);
        std::printf("RESULT label=%s saves=%d failures=%d median_ms=nan p95_ms=nan min_ms=nan max_ms=nan\n",
                    options.label.c_str(), options.saves, options.saves);
        return 1;
    }

    std::vector<double> samples;
    int failures = 0, in_a_row = 0;
    for (int i = 1; i <= options.saves; ++i) {
        if (options.give_up_after > 0 && in_a_row >= options.give_up_after) {
            std::printf("%s: %d failures in a row, giving up: the remaining %d saves count as failures\n",
                        options.label.c_str(), in_a_row, options.saves - i + 1);
            failures += options.saves - i + 1;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(options.pause_ms));
        const std::string version = "save-" + std::to_string(getpid()) + "-" + std::to_string(i);
        polls = 0;
        const auto start = Clock::now();
        save(options, version + "\n");
        const bool served = wait_for(options, version, start + std::chrono::milliseconds(options.timeout_ms), polls);
        const double ms = Millis(Clock::now() - start).count();
        if (served) samples.push_back(ms);
        failures += served ? 0 : 1;
        in_a_row = served ? 0 : in_a_row + 1;
        if (options.print_samples)
            std::printf("%s save %d: %s %.3f ms (%ld polls)\n", options.label.c_str(), i, served ? "served in" : "TIMEOUT after",
                        ms, polls);
    }

    std::sort(samples.begin(), samples.end());
    const double median = percentile(samples, 50), p95 = percentile(samples, 95);
    const double low = samples.empty() ? std::nan("") : samples.front();
    const double high = samples.empty() ? std::nan("") : samples.back();
    std::printf("%s: %d saves, %d failures; median %.2f ms, p95 %.2f ms, min %.2f ms, max %.2f ms\n", options.label.c_str(),
                options.saves, failures, median, p95, low, high);
    std::printf("RESULT label=%s saves=%d failures=%d median_ms=%.3f p95_ms=%.3f min_ms=%.3f max_ms=%.3f\n",
                options.label.c_str(), options.saves, failures, median, p95, low, high);
    return failures == 0 ? 0 : 1;
}
