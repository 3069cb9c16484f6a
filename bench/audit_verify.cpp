// Times AuditLog::verify over a log of 100,000 records (target: under 1 s), and reports what
// writing them through AuditLog::append costs. A benchmark, not a test.
//
//   tandem_audit_bench [--records N] [--append-seconds S] [--runs R] [--dir DIR]
//
// Records go through AuditLog::append (each fsynced, and the head file replaced durably) for
// at most S seconds (120). Whatever is left then is written by a faster path: the same line
// formatter and chain (audit/audit_line.hpp), buffered, with one fsync at the end and the head
// file written once. verify must then accept all N records.
#include <tandem/audit_log.hpp>

#include "audit/audit_line.hpp"
#include "support/durable_file.hpp"
#include "support/sha256.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
    std::uint64_t records = 100'000;
    double append_seconds = 120;  // then the faster path writes the rest
    int runs = 5;
    fs::path dir;  // a temp dir under /tmp, removed at the end, when empty
};

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// A deploy of three services, the shape shipper writes most (~1 KB a line).
tandem::AuditEntry sample_entry(std::uint64_t i) {
    tandem::AuditEntry entry;
    entry.event = i % 20 == 0 ? tandem::ChangeEvent::rollback : tandem::ChangeEvent::deploy;
    entry.actor = "poll";
    entry.commit = tandem::sha256_hex("commit " + std::to_string(i)).substr(0, 40);
    entry.author = "Ada Lovelace <ada@example.com>";
    entry.subject = "api: retry the payment client on 503 (#" + std::to_string(i) + ")";
    entry.previous_commit = tandem::sha256_hex("commit " + std::to_string(i - 1)).substr(0, 40);
    for (const char* service : {"api", "web", "worker"})
        entry.services.push_back({service, "sha256:" + tandem::sha256_hex(service + std::to_string(i - 1)),
                                  "sha256:" + tandem::sha256_hex(service + std::to_string(i)), "replace"});
    entry.outcome = tandem::ChangeOutcome::succeeded;
    entry.message = "rolled out 3 services";
    entry.build_ms = 1200 + static_cast<std::int64_t>(i % 300);
    entry.rollout_ms = 4000 + static_cast<std::int64_t>(i % 700);
    entry.total_ms = entry.build_ms + entry.rollout_ms;
    return entry;
}

// The faster path: records after `seq` up to `records`, chained on from `prev`.
bool fill(const fs::path& file, std::uint64_t seq, std::string prev, std::uint64_t records) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) return false;
    std::string buffer;
    bool ok = true;
    const auto now = std::chrono::system_clock::now();
    while (ok && seq < records) {
        tandem::AuditEntry entry = sample_entry(++seq);
        entry.time = now + std::chrono::milliseconds(seq);
        const std::string line = tandem::audit::format_line(seq, prev, entry);
        prev = tandem::sha256_hex(line);
        buffer.append(line).append(1, '\n');
        if (buffer.size() > (8u << 20) || seq == records) {
            ok = static_cast<bool>(tandem::write_all(fd, buffer));
            buffer.clear();
        }
    }
    ok = ok && ::fsync(fd) == 0;
    ::close(fd);
    auto head = file;
    head += ".head";
    return ok && tandem::replace_file_durably(head, std::to_string(records) + " " + prev + "\n");
}

// Writes the log: appends for at most --append-seconds, then the faster path. False on an error.
bool write_log(const fs::path& file, const Options& options) {
    auto log = tandem::AuditLog::open(file);
    if (!log) return std::fprintf(stderr, "%s\n", log.error().to_string().c_str()), false;
    std::string last_line;
    const auto start = Clock::now();
    double took = 0;
    while ((*log)->last_seq() < options.records && took < options.append_seconds) {
        auto record = (*log)->append(sample_entry((*log)->last_seq() + 1));
        if (!record) return std::fprintf(stderr, "%s\n", record.error().to_string().c_str()), false;
        last_line = std::move(record->line);
        took = seconds_since(start);
    }
    const std::uint64_t appended = (*log)->last_seq();
    if (appended > 0)
        std::printf("append:  %llu records through AuditLog::append in %.1f s (%.2f ms each, %.0f records/s)\n",
                    static_cast<unsigned long long>(appended), took, took * 1000 / static_cast<double>(appended),
                    static_cast<double>(appended) / took);
    if (appended == options.records) return true;
    const auto filled_at = Clock::now();
    if (!fill(file, appended, appended > 0 ? tandem::sha256_hex(last_line) : "", options.records)) {
        std::fprintf(stderr, "cannot write %s: %s\n", file.c_str(), std::strerror(errno));
        return false;
    }
    std::printf("fill:    records %llu..%llu by the faster path in %.2f s\n", static_cast<unsigned long long>(appended + 1),
                static_cast<unsigned long long>(options.records), seconds_since(filled_at));
    return true;
}

// Times verify `runs` times; false if the log does not verify whole.
bool time_verify(const fs::path& file, const Options& options) {
    std::vector<double> times;
    for (int run = 0; run < options.runs; ++run) {
        const auto start = Clock::now();
        const tandem::AuditVerification verified = tandem::AuditLog::verify(file);
        times.push_back(seconds_since(start));
        if (!verified.ok || verified.records != options.records) {
            std::fprintf(stderr, "verify failed after %zu records: %s\n", verified.records, verified.problem.c_str());
            return false;
        }
    }
    std::printf("verify:  ");
    for (const double t : times) std::printf("%.3f s  ", t);
    std::sort(times.begin(), times.end());
    const double median = times[times.size() / 2];
    const double mb = static_cast<double>(fs::file_size(file)) / 1e6;
    std::printf("\nverify:  median %.3f s over %d runs (%llu records, %.1f MB, %.0f MB/s); target: under 1 s\n", median,
                options.runs, static_cast<unsigned long long>(options.records), mb, mb / median);
    return true;
}

bool parse(int argc, char** argv, Options& options) {
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const char* value = argv[i + 1];
        if (flag == "--records") options.records = std::strtoull(value, nullptr, 10);
        else if (flag == "--append-seconds") options.append_seconds = std::atof(value);
        else if (flag == "--runs") options.runs = std::atoi(value);
        else if (flag == "--dir") options.dir = value;
        else return false;
    }
    return argc % 2 == 1 && options.records > 0 && options.runs > 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    if (!parse(argc, argv, options)) {
        std::fprintf(stderr, "usage: tandem_audit_bench [--records N] [--append-seconds S] [--runs R] [--dir DIR]\n");
        return 2;
    }
    const bool temporary = options.dir.empty();
    if (temporary) {
        std::string pattern = (fs::temp_directory_path() / "tandem-audit-bench-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) return std::perror("mkdtemp"), 1;
        options.dir = pattern;
    }
    const fs::path file = options.dir / "audit.jsonl";
    fs::remove(file);
    fs::remove(file.string() + ".head");
    const bool ok = write_log(file, options) && time_verify(file, options);
    if (temporary) fs::remove_all(options.dir);
    return ok ? 0 : 1;
}
