// One audit record as one line of text: `{"seq":N,"prev":"<hex>",` then the entry's members.
// A record that starts a new chain segment (an `audit repair`) has `"segment":"<hex>",` after
// prev: the SHA-256 of every byte of the file before it. The fixed prefix lets the chain be
// checked without parsing any JSON.
#pragma once

#include <tandem/audit_log.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace tandem::audit {

struct LinePrefix {
    std::uint64_t seq = 0;
    std::string_view prev;     // 64 hex digits, or empty for the first record
    std::string_view segment;  // 64 hex digits for a record that starts a segment; empty otherwise
};

// The seq and prev of a line that starts with the record prefix and ends with '}'; nullopt
// for anything else.
std::optional<LinePrefix> parse_line_prefix(std::string_view line);

// The record's line (without a newline). Members: time (RFC 3339 UTC, milliseconds), event,
// actor, commit, author, subject, previous_commit, services, outcome, message, incident, and
// build_ms / rollout_ms / total_ms unless -1.
std::string format_line(std::uint64_t seq, std::string_view prev, const AuditEntry& entry,
                        std::string_view segment = {});

// A line parsed back into a record; an error names `file` and the 1-based `line_number`.
Result<AuditRecord> parse_line(std::string_view line, const std::filesystem::path& file, std::size_t line_number);

}  // namespace tandem::audit
