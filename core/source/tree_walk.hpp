// Walking a project tree under its ignore rules: shared by list_tree and the disk watcher.
#pragma once

#include <tandem/ignore.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace tandem::detail {

// Visits every entry below the directory `start` (relative to rules.root(), "" for the root),
// each with the rule that decides it. Directories that count are entered after being visited;
// ignored ones are visited but not entered, and symlinks are never followed. Unreadable
// directories are skipped. The start directory itself is not visited.
void walk_tree(const IgnoreRules& rules, std::string_view start, const std::function<void(const TreeEntry&)>& visit);

// "a/b" + "c" → "a/b/c"; "" + "c" → "c".
std::string join_relative(std::string_view directory, std::string_view name);

}  // namespace tandem::detail
