// The runtime's record of the replicas it started: a JSON file saved atomically, and the
// start-up sweep that stops what a killed engine left behind.
#include "runtime/process/runtime_state.hpp"

#include "support/durable_file.hpp"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace tandem::process {
namespace {

constexpr int kStateFileVersion = 1;
// After SIGKILL a group is gone within milliseconds; this only bounds a wait that cannot end
// (a member stuck in uninterruptible sleep).
constexpr Duration kKillWait{5000};
constexpr Duration kPollInterval{10};

std::string errno_text() { return std::strerror(errno); }

Error file_error(const std::filesystem::path& file, ErrorCode code, std::string message) {
    return make_error(code, std::move(message), SourceLocation{file.string(), 0, 0});
}

nlohmann::json to_json(const ReplicaRecord& record) {
    return nlohmann::json{{"service", record.service},       {"replica", record.replica},
                          {"pid", record.pid},               {"start_ticks", record.start_ticks},
                          {"port", record.port},             {"artifact", record.artifact},
                          {"started_at", record.started_at}, {"kind", record.kind}};
}

// Throws nlohmann::json exceptions on a missing field or a wrong type; load() turns them into an Error.
ReplicaRecord record_from_json(const nlohmann::json& item) {
    ReplicaRecord record;
    record.service = item.at("service").get<std::string>();
    record.replica = item.at("replica").get<int>();
    record.pid = item.at("pid").get<pid_t>();
    record.start_ticks = item.at("start_ticks").get<unsigned long long>();
    record.port = item.value("port", 0);
    record.artifact = item.value("artifact", std::string{});
    record.started_at = item.value("started_at", std::string{});
    record.kind = item.value("kind", std::string{});
    return record;
}

Result<std::vector<ReplicaRecord>> parse_state(const std::filesystem::path& file, const std::string& text) {
    try {
        const auto document = nlohmann::json::parse(text);
        const int version = document.at("version").get<int>();
        if (version != kStateFileVersion) {
            return file_error(file, ErrorCode::invalid_value,
                              "unsupported runtime state version " + std::to_string(version) + " (expected " +
                                  std::to_string(kStateFileVersion) + ")");
        }
        std::vector<ReplicaRecord> records;
        for (const auto& item : document.at("replicas")) records.push_back(record_from_json(item));
        return records;
    } catch (const nlohmann::json::exception& e) {
        return file_error(file, ErrorCode::invalid_value, std::string("corrupt runtime state: ") + e.what());
    }
}

bool group_exists(pid_t pgid) { return ::kill(-pgid, 0) == 0 || errno == EPERM; }

// To the whole group; to the process alone if it is, against the record, not a group leader.
void signal_replica(const ReplicaRecord& record, int signal) {
    if (::kill(-record.pid, signal) != 0 && errno == ESRCH && still_running(record)) ::kill(record.pid, signal);
}

// Reaps whichever members of the group are our children (the leader if we started it, orphans
// if we are their subreaper), so that zombies do not keep the group alive.
void reap_group(pid_t pgid) {
    int status = 0;
    while (::waitpid(-pgid, &status, WNOHANG) > 0) {
    }
}

bool replica_gone(const ReplicaRecord& record) {
    reap_group(record.pid);
    return !group_exists(record.pid) && !still_running(record);
}

// Waits until every replica in `pending` is gone or `deadline` passes; leaves the ones still there.
void wait_gone(std::vector<ReplicaRecord>& pending, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        std::erase_if(pending, replica_gone);
        if (pending.empty() || std::chrono::steady_clock::now() >= deadline) return;
        std::this_thread::sleep_for(kPollInterval);
    }
}

}  // namespace

unsigned long long process_start_ticks(pid_t pid) {
    if (pid <= 0) return 0;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) return 0;
    // The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
    const auto name_end = line.rfind(')');
    if (name_end == std::string::npos) return 0;
    std::istringstream fields(line.substr(name_end + 1));
    std::string field;
    // Field 3 (the state) comes right after the name; the start time is field 22.
    for (int number = 3; number <= 22; ++number) {
        if (!(fields >> field)) return 0;
    }
    try {
        return std::stoull(field);
    } catch (const std::exception&) {
        return 0;
    }
}

bool still_running(const ReplicaRecord& record) {
    if (record.pid <= 0 || record.start_ticks == 0) return false;
    return process_start_ticks(record.pid) == record.start_ticks;
}

RuntimeStateFile::RuntimeStateFile(std::filesystem::path path) : path_(std::move(path)) {}

Result<std::vector<ReplicaRecord>> RuntimeStateFile::load() const {
    std::error_code ec;
    if (!std::filesystem::exists(path_, ec)) {
        if (ec) return file_error(path_, ErrorCode::io, "cannot read: " + ec.message());
        return std::vector<ReplicaRecord>{};
    }
    std::ifstream in(path_, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (!in) return file_error(path_, ErrorCode::io, "cannot read: " + errno_text());
    return parse_state(path_, buffer.str());
}

Status RuntimeStateFile::save(const std::vector<ReplicaRecord>& records) const {
    nlohmann::json replicas = nlohmann::json::array();
    for (const auto& record : records) replicas.push_back(to_json(record));
    const nlohmann::json document{{"version", kStateFileVersion}, {"replicas", replicas}};
    return replace_file_durably(path_, document.dump(2) + "\n");
}

std::vector<ReplicaRecord> stop_leftovers(const std::vector<ReplicaRecord>& records, Duration grace) {
    std::vector<ReplicaRecord> stopped;
    for (const auto& record : records) {
        if (still_running(record)) stopped.push_back(record);
    }
    // All at once, so that N leftovers take one grace period, not N.
    for (const auto& record : stopped) signal_replica(record, SIGTERM);
    std::vector<ReplicaRecord> pending = stopped;
    wait_gone(pending, std::chrono::steady_clock::now() + grace);
    for (const auto& record : pending) signal_replica(record, SIGKILL);
    wait_gone(pending, std::chrono::steady_clock::now() + kKillWait);
    return stopped;
}

}  // namespace tandem::process
