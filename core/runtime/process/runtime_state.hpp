// What the runtime started (replicas, and the commands plans run), recorded in the state directory so that an engine that was killed
// and started again finds its leftovers (by pid, process group and start time, so a reused pid
// is never mistaken for one of ours) and stops them cleanly: no duplicates, no orphans.
#pragma once

#include <tandem/error.hpp>
#include <tandem/spec.hpp>

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace tandem::process {

struct ReplicaRecord {
    std::string service;
    int replica = 0;                 // index within the service
    pid_t pid = 0;                   // also the process group id
    unsigned long long start_ticks = 0;  // field 22 of /proc/PID/stat when it started
    int port = 0;                    // its private port (0: none)
    std::string artifact;            // what it runs ("sha256:..." or a path), may be empty
    std::string started_at;          // ISO 8601, for people
    // "" for a replica; for a command a plan runs (a build, a `run` action, a reset), its kind:
    // recorded the same way so that a killed engine's next start stops it too.
    std::string kind;
};

// The start time of a process, from /proc/PID/stat; 0 if it does not exist.
unsigned long long process_start_ticks(pid_t pid);

// True if `record` still names the process it recorded (same pid and start time).
bool still_running(const ReplicaRecord& record);

class RuntimeStateFile {
public:
    explicit RuntimeStateFile(std::filesystem::path path);

    Result<std::vector<ReplicaRecord>> load() const;  // none if the file does not exist
    // Atomic: written to a temporary file, fsynced, renamed over the old one.
    Status save(const std::vector<ReplicaRecord>& records) const;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Stops every recorded replica that is still running: SIGTERM to its group, SIGKILL after
// `grace`, waiting until the group is gone. Returns the ones it stopped. Blocking; for start-up.
std::vector<ReplicaRecord> stop_leftovers(const std::vector<ReplicaRecord>& records, Duration grace);

}  // namespace tandem::process
