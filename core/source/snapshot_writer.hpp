// Writing one commit's tree to a read-only snapshot directory, refusing any entry that could
// escape it (see GitMirror::materialize).
#pragma once

#include <tandem/error.hpp>

#include <git2.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace tandem::detail {

// Writes the tree of `commit` to `snapshots_dir/<full id>/` (files 0444 or 0555, directories
// 0555) through a temporary directory beside it, and returns the snapshot directory. An
// existing snapshot is returned as it is; a refused or failed one leaves nothing behind. A tree
// beyond the TreeBounds (tree_bounds.hpp) is refused before anything of it is read further.
Result<std::filesystem::path> write_snapshot(git_repository* repo, const git_commit* commit,
                                             const std::filesystem::path& snapshots_dir);

// Why a tree entry's name is refused ("" when it is fine): "", ".", "..", ".git" in any case,
// names with '/' or a NUL byte.
std::string refused_name_reason(std::string_view name);

// Why a symlink in directory `link_dir` (tree-relative, "" at the top) with this target is
// refused ("" when it is fine): empty, absolute or escaping targets. ".." may only lead the
// target: after a name, that name could itself be a symlink, and the lexical answer would lie.
std::string refused_link_reason(std::string_view link_dir, std::string_view target);

}  // namespace tandem::detail
