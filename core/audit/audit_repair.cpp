// `audit repair`: a broken chain is closed on record, never rewritten. The repair record's
// prev is the hash of the line before it and its `segment` the hash of every byte before it,
// so the broken segment stays exactly as it was found, and its seq continues past the highest
// seq the file or its head ever named.
#include <tandem/audit_log.hpp>

#include "audit/audit_head.hpp"
#include "audit/audit_line.hpp"
#include "audit/line_reader.hpp"
#include "audit/log_check.hpp"
#include "support/durable_file.hpp"
#include "support/sha256.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tandem {

namespace {

// The hash of the last line and the highest seq among the file's lines.
struct FileEnd {
    std::string last_hash;
    std::uint64_t max_seq = 0;
};

Result<FileEnd> scan(const std::filesystem::path& path) {
    FileEnd end;
    std::string last;
    const Status read = audit::for_each_line(path, [&](const audit::Line& line) {
        if (const auto prefix = audit::parse_line_prefix(line.text)) end.max_seq = std::max(end.max_seq, prefix->seq);
        last.assign(line.text);
    });
    if (!read) return read.error();
    if (!last.empty() || end.max_seq > 0) end.last_hash = sha256_hex(last);
    return end;
}

std::string head_text(const std::filesystem::path& path) {
    auto head = audit::read_head(audit::head_path(path));
    if (!head) return fmt::format("unreadable ({})", head.error().message);
    if (!*head) return "missing";
    std::string text = fmt::format("seq {} {}", (*head)->last.seq, (*head)->last.hash);
    if ((*head)->pending) text += fmt::format(", pending seq {}", (*head)->pending->seq);
    return text;
}

}  // namespace

Result<std::optional<AuditRecord>> AuditLog::repair(const std::filesystem::path& path, const std::string& actor,
                                                    const std::string& reason) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) && !std::filesystem::exists(audit::head_path(path), ec))
        return make_error(ErrorCode::io, "no audit log at " + path.string());
    auto fd = audit::open_locked(path);
    if (!fd) return fd.error();
    // Owns the descriptor from here; its tail is set once the file's end is known.
    auto log = audit::AuditLogAccess::make(path, *fd, 0, {}, 0);
    const AuditVerification found = audit::verify_log(path, true);
    if (found.ok) return std::optional<AuditRecord>();
    struct stat info {};
    if (::fstat(*fd, &info) != 0) return audit::errno_error("stat", path);
    if (info.st_size > 0) {
        char byte = '\n';
        if (::pread(*fd, &byte, 1, info.st_size - 1) != 1) return audit::errno_error("read", path);
        // A torn last line stays, as a line of its own in the closed segment.
        if (byte != '\n')
            if (Status ended = write_all(*fd, "\n"); !ended) return ended.error();
    }
    if (::fstat(*fd, &info) != 0) return audit::errno_error("stat", path);
    auto end = scan(path);
    if (!end) return end.error();
    auto covered = audit::hash_file_prefix(path, static_cast<std::uint64_t>(info.st_size));
    if (!covered) return covered.error();
    auto head = audit::read_head(audit::head_path(path));
    const std::uint64_t head_seq = head && *head ? (*head)->last.seq : 0;
    AuditEntry entry;
    entry.event = ChangeEvent::audit_repair;
    entry.actor = actor;
    entry.outcome = ChangeOutcome::succeeded;
    entry.incident = true;
    entry.message = fmt::format(
        "chain break recorded: {}; the head file said {}. Every line before this record is kept as it was, as a closed "
        "segment; reason given: {}",
        found.problem, head_text(path), reason.empty() ? "(none)" : reason);
    audit::AuditLogAccess::set_tail(*log, std::max(end->max_seq, head_seq), end->last_hash,
                                    static_cast<std::uint64_t>(info.st_size));
    auto record = audit::AuditLogAccess::append(*log, std::move(entry), *covered);
    if (!record) return record.error();
    return std::optional<AuditRecord>(std::move(*record));
}

}  // namespace tandem
