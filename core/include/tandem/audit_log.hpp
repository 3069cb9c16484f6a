// The audit record: one JSON line per change, append-only, each line carrying the SHA-256 of
// the line before it and a sequence number, and each fsynced before the change it describes
// is reported done. `verify` finds an edited, deleted, reordered, forged or torn record by its
// line; `open` refuses a log that does not verify, until `repair` records the break.
#pragma once

#include <tandem/change_event.hpp>
#include <tandem/error.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace tandem {

namespace audit {
struct AuditLogAccess;
}

struct AuditServiceChange {
    std::string service;
    std::string old_digest;  // artifact digests ("sha256:..."); empty when none
    std::string new_digest;
    std::string change;      // "start", "replace", "stop", "unchanged", ...
    // When the deploy asked the builder for the service's artifact: "built" (the build ran) or
    // "reused" (an artifact stored under the same build key), and that key ("sha256:...").
    // Empty otherwise (no build, or the running artifact kept because the plan builds nothing).
    std::string build;
    std::string build_key;
    // Where its replicas stood as the rollout ended, as its runtime names them ("pid 4242: healthy",
    // "task 1a2b3c4d5e6f on node-2 10.20.0.12: healthy"), then the last failure it saw, if any
    // ("failed: task shop-web.2 ... on node ...: exit 1"). Empty for a service stopped.
    std::vector<std::string> replicas{};
};

struct AuditEntry {
    std::chrono::system_clock::time_point time;  // set by append() when left at its default
    ChangeEvent event = ChangeEvent::none;  // stored as its spelling: "deploy", "policy_refusal", ...
    std::string actor;    // "poll", "sync command", "user root", "engine start", ...
    std::string commit;   // the commit the change is about, if any
    std::string author;   // its author, if any
    std::string subject;  // its subject line, if any
    std::string previous_commit;  // what was deployed before, if any
    std::vector<AuditServiceChange> services;
    ChangeOutcome outcome = ChangeOutcome::succeeded;  // "succeeded", "failed", "refused", "reverted"
    std::string message;  // the reason or error, for people
    bool incident = false;  // e.g. a from-scratch bootstrap under a policy that requires a flag
    std::int64_t build_ms = -1, rollout_ms = -1, total_ms = -1;  // -1: not applicable
};

// One record as stored: its entry plus the chain fields.
struct AuditRecord {
    std::uint64_t seq = 0;   // 1, 2, 3, ... in file order
    std::string prev;        // hex SHA-256 of the previous line ("" for the first record)
    std::string segment;     // a repair: hex SHA-256 of every byte before this line; "" otherwise
    AuditEntry entry;
    std::string line;        // the line as written (without its newline)
};

// A break in the chain that an `audit repair` record closed: the records before it form a
// segment of their own, kept as they were and bound to the repair by the hash of their bytes.
struct AuditRepairedBreak {
    std::size_t line = 0;    // the repair record's line
    std::uint64_t seq = 0;   // and its seq
    std::string problem;     // what the chain of the segment before it shows ("" when its chain is whole)
};

struct AuditVerification {
    bool ok = true;
    std::size_t records = 0;   // whole records that passed before the first problem
    std::size_t bad_line = 0;  // 1-based line of the first problem; 0 when ok
    std::uint64_t bad_seq = 0;  // the seq of that line's record, when it has one
    std::string problem;       // "line 7: ..." for people; empty when ok
    std::vector<AuditRepairedBreak> repairs;  // earlier breaks closed by `audit repair`, in file order
};

class AuditLog {
public:
    // Opens (or creates, with its parent directories) the log at `path`, locked against a
    // second writer, after verifying its whole chain: a log that does not verify is an error
    // naming the file, the line and what is wrong, and nothing is appended until `repair`.
    // What a crash leaves is put right and recorded: a torn last line is cut away (an
    // "audit_repair" record says how many bytes), and a head left pending is completed.
    static Result<std::unique_ptr<AuditLog>> open(const std::filesystem::path& path);

    // Closes a broken chain on record: appends an "audit_repair" record by `actor` whose
    // message says what verify found and `reason`, and which starts a new chain segment bound
    // to every byte before it (nothing is rewritten or removed). nullopt when the log verifies
    // (nothing to repair). An error when another process (a running engine) holds the log.
    static Result<std::optional<AuditRecord>> repair(const std::filesystem::path& path, const std::string& actor,
                                                     const std::string& reason);

    // Appends one record (seq and prev filled in) and fsyncs it before returning: the head
    // file announces it first ("pending") and names it after. Refused when the file changed
    // since this object last wrote it (someone else wrote to it). Safe from any thread.
    Result<AuditRecord> append(AuditEntry entry);

    const std::filesystem::path& path() const { return path_; }
    std::uint64_t last_seq() const;
    std::string last_hash() const;  // hex SHA-256 of the last record's line; "" when empty

    // Checks the whole chain of the file at `path`: every line a record, seq consecutive,
    // each prev the hash of the line before, the last line whole and equal to the head file
    // (`<path>.head`, which catches deleted trailing records; a record past it passes only if
    // the head announced it as pending). Names the first bad line. Segments closed by a
    // repair are reported in `repairs`, and must still hash to what their repair recorded.
    static AuditVerification verify(const std::filesystem::path& path);
    // Every record of the file, in order. An unreadable line is an error naming it.
    static Result<std::vector<AuditRecord>> read(const std::filesystem::path& path);

    AuditLog(const AuditLog&) = delete;
    AuditLog& operator=(const AuditLog&) = delete;
    ~AuditLog();

private:
    friend struct audit::AuditLogAccess;
    AuditLog(std::filesystem::path path, int fd, std::uint64_t seq, std::string last_hash, std::uint64_t size);
    Result<AuditRecord> append_locked(AuditEntry entry, const std::string& segment);

    std::filesystem::path path_;
    int fd_ = -1;
    mutable std::mutex mutex_;
    std::uint64_t seq_ = 0;
    std::string last_hash_;
    std::uint64_t size_ = 0;  // the file's size after our last write
};

// A record as one line of JSON: its line as written (seq, prev and the entry's fields), or one
// built from its fields when `line` is empty; used by `audit show --output json`.
std::string to_json(const AuditRecord& record);

}  // namespace tandem
