// Signed checkpoints of the audit log's head, kept off the log's box: {seq, hash of that
// record's line, time}, signed with `ssh-keygen -Y sign -n tandem-audit` and committed, one
// commit per checkpoint, to a ref of a second git repository that the operator mirrors
// elsewhere. A log truncated (log and head together) or re-chained below a checkpoint no
// longer has that seq with that hash, which `verify_audit_checkpoints` reports.
#pragma once

#include <tandem/error.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tandem {

inline constexpr const char* kAuditCheckpointNamespace = "tandem-audit";
inline constexpr const char* kAuditCheckpointRef = "refs/heads/audit-checkpoints";

struct AuditCheckpoint {
    std::uint64_t seq = 0;
    std::string hash;  // hex SHA-256 of record `seq`'s line
    std::chrono::system_clock::time_point time;
    std::string log;   // the log's file name, for people

    // The signed text: "tandem audit checkpoint\nlog NAME\nseq N\nhash HEX\ntime RFC3339\n".
    std::string document() const;
    // A document back; an error naming what is wrong with it.
    static Result<AuditCheckpoint> parse(const std::string& document);
};

struct AuditCheckpointSigning {
    std::filesystem::path key;         // ssh-keygen -Y sign -f KEY: a private key, or a public key whose
                                       // private half is in ssh-agent
    std::filesystem::path repository;  // a git repository (a bare one is created when missing)
    std::string ref = kAuditCheckpointRef;
};

// Signs checkpoints and commits them to the repository's ref, each on top of the last.
class AuditCheckpointWriter {
public:
    // Opens (or creates) the repository and reads the last checkpoint on the ref, if any.
    static Result<std::unique_ptr<AuditCheckpointWriter>> open(const AuditCheckpointSigning& signing);
    ~AuditCheckpointWriter();

    // Signs `checkpoint` and commits it; an error names the key or the repository.
    Status write(const AuditCheckpoint& checkpoint);
    // The seq of the newest checkpoint on the ref; 0 when there is none.
    std::uint64_t last_seq() const { return last_seq_; }

    struct Repository;

private:
    AuditCheckpointWriter(AuditCheckpointSigning signing, std::unique_ptr<Repository> repository, std::uint64_t last);
    AuditCheckpointSigning signing_;
    std::unique_ptr<Repository> repository_;
    std::uint64_t last_seq_ = 0;
};

struct AuditCheckpointVerification {
    bool ok = true;
    std::size_t checkpoints = 0;   // checkpoints read and checked
    std::uint64_t last_seq = 0;    // the newest checkpoint's seq
    bool signers_checked = false;  // against allowed signers (else the signatures' integrity only)
    std::string problem;           // the first problem, for people; empty when ok
};

// Checks every checkpoint on `ref` of the git repository `checkpoints`: its signature (by a
// signer of `allowed_signers` when given, else only that it is a valid signature of the
// document) and that the log at `log` still has a record with its seq whose line hashes to
// its hash. An error only when the checkpoints cannot be read at all.
Result<AuditCheckpointVerification> verify_audit_checkpoints(const std::filesystem::path& log,
                                                            const std::filesystem::path& checkpoints,
                                                            const std::optional<std::filesystem::path>& allowed_signers,
                                                            const std::string& ref = kAuditCheckpointRef);

}  // namespace tandem
