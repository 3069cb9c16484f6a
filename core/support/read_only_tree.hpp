// Removing trees that hold read-only directories (snapshots, artifacts, release copies): a
// directory's entries can be removed only once it is writable again.
#pragma once

#include <tandem/error.hpp>

#include <filesystem>

namespace tandem {

// Removes `path` and everything below it, read-only directories included (made writable first).
// Nothing there is not an error; a failure names the path.
Status remove_read_only_tree(const std::filesystem::path& path);

}  // namespace tandem
