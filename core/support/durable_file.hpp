// Files that survive a crash: writes looped over short writes, fsync of files and of the
// directory that holds a rename, and whole-file replacement through a temporary file.
#pragma once

#include <tandem/error.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace tandem {

// Writes all of `data` to `fd` (retrying short writes and EINTR).
Status write_all(int fd, std::string_view data);

// Makes a rename or a new entry in `dir` durable.
Status sync_directory(const std::filesystem::path& dir);

// Replaces `file` with `content` atomically: parents created, a temporary file in the same
// directory written and fsynced, renamed over `file`, and the directory fsynced. A crash at any
// point leaves either the old or the new content. Errors name the file.
Status replace_file_durably(const std::filesystem::path& file, std::string_view content);

}  // namespace tandem
