// Whole-file checks of an audit log, shared by verify, open and repair.
#pragma once

#include <tandem/audit_log.hpp>

#include <cstdint>
#include <memory>
#include <filesystem>
#include <string>

namespace tandem::audit {

// The chain check of AuditLog::verify; with `torn_tail_allowed`, a last line without its
// newline (a write cut off by a crash, which open() cuts away and records) is left out.
AuditVerification verify_log(const std::filesystem::path& path, bool torn_tail_allowed);

// Hex SHA-256 of the first `size` bytes of the file.
Result<std::string> hash_file_prefix(const std::filesystem::path& path, std::uint64_t size);

// The log opened for appending and locked (flock) against a second writer; an error naming
// the file when another process holds it.
Result<int> open_locked(const std::filesystem::path& path);

// "the audit log X does not verify: <problem>. Nothing is appended ... `audit repair`", at its line.
Error broken_log(const std::filesystem::path& path, const AuditVerification& found);

// What repair needs of AuditLog's inside: a log at a known tail, and an append that starts a segment.
struct AuditLogAccess {
    static std::unique_ptr<AuditLog> make(std::filesystem::path path, int fd, std::uint64_t seq, std::string hash,
                                          std::uint64_t size);
    static void set_tail(AuditLog& log, std::uint64_t seq, std::string hash, std::uint64_t size);
    static Result<AuditRecord> append(AuditLog& log, AuditEntry entry, const std::string& segment);
};

}  // namespace tandem::audit
