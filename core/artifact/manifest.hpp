// What an artifact's digest covers: one line per file, directory and symlink, by path.
#pragma once

#include <tandem/error.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::artifact {

enum class EntryType { file, directory, symlink };

struct ManifestEntry {
    EntryType type = EntryType::file;
    bool executable = false;  // files only: any x bit
    std::string hash;         // hex SHA-256 of a file's bytes or a symlink's target; empty for a directory
};

// By relative path ("bin/app"); a directory sorts before what it holds.
using Manifest = std::map<std::string, ManifestEntry>;

// `text` with backslashes and newlines escaped, so that a newline in a file name (or in a
// build key's value) cannot forge a line of its own.
std::string escaped(std::string_view text);

// "cannot <what> <path>: <strerror(errno)>" as an ErrorCode::io error.
Error errno_error(const std::string& what, const std::filesystem::path& path);

// `output` as a clean relative path ("bin/app"), or an error if it leaves `dir`.
Result<std::string> output_path(const std::string& output, const std::filesystem::path& dir);

// The outputs under `dir`, their parent directories and everything below them. A missing
// output is an ErrorCode::io error naming it.
Result<Manifest> manifest_of_outputs(const std::filesystem::path& dir, const std::vector<std::string>& outputs);
// Everything below `root` (root itself is not an entry).
Result<Manifest> manifest_of_tree(const std::filesystem::path& root);
// Exactly `files` (paths relative to `dir`, each a file or a symlink, which is not followed):
// what a build reads, for its key. A file that cannot be read is an ErrorCode::io error.
Result<Manifest> manifest_of_files(const std::filesystem::path& dir, const std::vector<std::string>& files);

// "<file|dir|symlink> <x|-> <path> <hash|->\n" per entry, in path order.
std::string manifest_text(const Manifest& manifest);
// "sha256:" + the SHA-256 of manifest_text().
std::string manifest_digest(const Manifest& manifest);
// The first path where `now` differs from a stored manifest_text(), as "bin/app changed",
// "extra.txt added" or "lib removed"; empty when they are equal.
std::string first_difference(std::string_view stored_text, const Manifest& now);

}  // namespace tandem::artifact
