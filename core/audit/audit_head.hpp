// The head file `<log>.head`: the last record's seq and line hash, and while a record is being
// appended, that record's seq and hash too ("pending"). It is written before the record (with
// the pending line) and again after it (without), so a record past the head is either the one
// the head announced or a forgery.
#pragma once

#include <tandem/error.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace tandem::audit {

struct HeadMark {
    std::uint64_t seq = 0;
    std::string hash;  // 64 hex digits of the SHA-256 of the record's line; "" before any record
};

struct Head {
    HeadMark last;                   // the last record written
    std::optional<HeadMark> pending;  // the record being appended, when the engine stopped in between
};

std::filesystem::path head_path(const std::filesystem::path& log);

// "<seq> <hash>\n" and, when pending, "pending <seq> <hash>\n"; nullopt when there is no file.
Result<std::optional<Head>> read_head(const std::filesystem::path& head_file);

// Replaces the head file durably.
Status write_head(const std::filesystem::path& head_file, const Head& head);

}  // namespace tandem::audit
