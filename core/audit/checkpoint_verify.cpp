// `audit verify --checkpoints`: each signed checkpoint checked, then the log checked to still
// hold every checkpointed seq with the checkpointed hash.
#include <tandem/audit_checkpoint.hpp>
#include <tandem/utc_time.hpp>

#include "audit/audit_line.hpp"
#include "audit/checkpoint_repository.hpp"
#include "audit/checkpoint_signature.hpp"
#include "audit/line_reader.hpp"
#include "support/sha256.hpp"

#include <fmt/format.h>

#include <map>

namespace tandem {

namespace {

std::string describe(const AuditCheckpoint& checkpoint, const std::string& commit) {
    return fmt::format("the checkpoint of seq {} (signed {}, commit {})", checkpoint.seq, format_utc(checkpoint.time),
                       commit.substr(0, 12));
}

// The hash of the first line holding each wanted seq, and the highest seq of the log.
struct LogHashes {
    std::map<std::uint64_t, std::string> hashes;
    std::uint64_t last_seq = 0;
};

Result<LogHashes> hashes_at(const std::filesystem::path& log, const std::map<std::uint64_t, std::string>& wanted) {
    LogHashes found;
    const Status read = audit::for_each_line(log, [&](const audit::Line& line) {
        const auto prefix = audit::parse_line_prefix(line.text);
        if (!prefix) return;
        found.last_seq = std::max(found.last_seq, prefix->seq);
        if (wanted.count(prefix->seq) && !found.hashes.count(prefix->seq)) found.hashes[prefix->seq] = sha256_hex(line.text);
    });
    if (!read) return read.error();
    return found;
}

}  // namespace

Result<AuditCheckpointVerification> verify_audit_checkpoints(const std::filesystem::path& log,
                                                            const std::filesystem::path& checkpoints,
                                                            const std::optional<std::filesystem::path>& allowed_signers,
                                                            const std::string& ref) {
    auto stored = audit::read_checkpoints(checkpoints, ref);
    if (!stored) return stored.error();
    AuditCheckpointVerification result;
    result.signers_checked = allowed_signers.has_value();
    std::map<std::uint64_t, std::string> wanted;  // seq -> the commit of its checkpoint
    std::vector<std::pair<AuditCheckpoint, std::string>> parsed;
    for (const auto& one : *stored) {
        auto checkpoint = AuditCheckpoint::parse(one.document);
        auto signer = checkpoint ? audit::check_checkpoint_signature(one.document, one.signature, allowed_signers)
                                 : Result<std::string>(checkpoint.error());
        if (!signer) {
            result.ok = false;
            result.problem = fmt::format("checkpoint commit {} of {}: {}", one.commit.substr(0, 12),
                                         checkpoints.string(), signer.error().message);
            return result;
        }
        ++result.checkpoints;
        result.last_seq = std::max(result.last_seq, checkpoint->seq);
        wanted[checkpoint->seq] = one.commit;
        parsed.emplace_back(std::move(*checkpoint), one.commit);
    }
    auto found = hashes_at(log, wanted);
    if (!found) return found.error();
    // Oldest first, so the first problem named is the earliest checkpoint the log contradicts.
    for (auto it = parsed.rbegin(); it != parsed.rend(); ++it) {
        const auto& [checkpoint, commit] = *it;
        const auto hash = found->hashes.find(checkpoint.seq);
        if (hash == found->hashes.end()) {
            result.ok = false;
            result.problem =
                fmt::format("{} has no record with seq {}, but {} does: the log was truncated (it ends at seq {})",
                            log.string(), checkpoint.seq, describe(checkpoint, commit), found->last_seq);
            return result;
        }
        if (hash->second != checkpoint.hash) {
            result.ok = false;
            result.problem = fmt::format(
                "{}: record {} hashes to {}..., but {} says {}...: the log was rewritten (re-chained) at or before seq "
                "{}",
                log.string(), checkpoint.seq, hash->second.substr(0, 16), describe(checkpoint, commit),
                checkpoint.hash.substr(0, 16), checkpoint.seq);
            return result;
        }
    }
    return result;
}

}  // namespace tandem
