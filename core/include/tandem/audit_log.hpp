// The audit record: one JSON line per change, append-only, each line carrying the SHA-256 of
// the line before it and a sequence number, and each fsynced before the change it describes
// is reported done. `verify` finds an edited, deleted, reordered or torn record by its line.
#pragma once

#include <tandem/error.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tandem {

struct AuditServiceChange {
    std::string service;
    std::string old_digest;  // artifact digests ("sha256:..."); empty when none
    std::string new_digest;
    std::string change;      // "start", "replace", "stop", "unchanged", ...
};

struct AuditEntry {
    std::chrono::system_clock::time_point time;  // set by append() when left at its default
    std::string event;    // "deploy", "rollback", "revert", "refused", "policy_refusal", "bootstrap",
                          // "recover", "auth", "audit_repair"
    std::string actor;    // "poll", "sync command", "user root", "engine start", ...
    std::string commit;   // the commit the change is about, if any
    std::string author;   // its author, if any
    std::string subject;  // its subject line, if any
    std::string previous_commit;  // what was deployed before, if any
    std::vector<AuditServiceChange> services;
    std::string outcome;  // "succeeded", "failed", "refused", "reverted"
    std::string message;  // the reason or error, for people
    bool incident = false;  // e.g. a from-scratch bootstrap under a policy that requires a flag
    std::int64_t build_ms = -1, rollout_ms = -1, total_ms = -1;  // -1: not applicable
};

// One record as stored: its entry plus the chain fields.
struct AuditRecord {
    std::uint64_t seq = 0;   // 1, 2, 3, ... in file order
    std::string prev;        // hex SHA-256 of the previous line ("" for the first record)
    AuditEntry entry;
    std::string line;        // the line as written (without its newline)
};

struct AuditVerification {
    bool ok = true;
    std::size_t records = 0;   // whole records that passed before the first problem
    std::size_t bad_line = 0;  // 1-based line of the first problem; 0 when ok
    std::string problem;       // "line 7: ..." for people; empty when ok
};

class AuditLog {
public:
    // Opens (or creates, with its parent directories) the log at `path`. A torn last line (a
    // write cut off by a crash) is cut away and the cut is itself recorded as an
    // "audit_repair" record, so the chain stays whole and the loss is on record.
    static Result<std::unique_ptr<AuditLog>> open(const std::filesystem::path& path);

    // Appends one record (seq and prev filled in) and fsyncs it before returning. Safe from
    // any thread.
    Result<AuditRecord> append(AuditEntry entry);

    const std::filesystem::path& path() const { return path_; }
    std::uint64_t last_seq() const;

    // Checks the whole chain of the file at `path`: every line a record, seq consecutive,
    // each prev the hash of the line before, the last line whole and equal to the head file
    // (`<path>.head`, which catches deleted trailing records). Names the first bad line.
    static AuditVerification verify(const std::filesystem::path& path);
    // Every record of the file, in order. An unreadable line is an error naming it.
    static Result<std::vector<AuditRecord>> read(const std::filesystem::path& path);

    AuditLog(const AuditLog&) = delete;
    AuditLog& operator=(const AuditLog&) = delete;
    ~AuditLog();

private:
    AuditLog(std::filesystem::path path, int fd, std::uint64_t seq, std::string last_hash);
    Status write_head();

    std::filesystem::path path_;
    int fd_ = -1;
    mutable std::mutex mutex_;
    std::uint64_t seq_ = 0;
    std::string last_hash_;
};

// A record as one line of JSON: its line as written (seq, prev and the entry's fields), or one
// built from its fields when `line` is empty; used by `audit show --output json`.
std::string to_json(const AuditRecord& record);

}  // namespace tandem
