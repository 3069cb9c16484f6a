// Writable copies of read-only trees (a commit's snapshot): the scratch directory a build runs
// in and the release directory services run from.
#pragma once

#include <tandem/error.hpp>

#include <filesystem>

namespace tandem {

// Copies `from` to `to` (symlinks as symlinks) and makes its directories writable, so that
// builds can write their outputs and services their files; the copied files keep their modes.
// A failure is an ErrorCode::io error located at `to`.
Status copy_writable(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace tandem
