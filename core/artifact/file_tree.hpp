// The filesystem work of the artifact store: copying outputs, sealing them read-only, and
// removing read-only trees again.
#pragma once

#include "artifact/manifest.hpp"

#include <filesystem>

namespace tandem::artifact {

// Copies every entry of `manifest` from under `from` to under `to` (directories created,
// files copied, symlinks recreated), then makes files 0444 (0555 if executable) and
// directories 0555. `to` itself is left as it is.
Status copy_sealed(const Manifest& manifest, const std::filesystem::path& from, const std::filesystem::path& to);

// Makes `link` a symlink to `target`, replacing a file, symlink or directory tree there.
Status replace_with_symlink(const std::filesystem::path& link, const std::filesystem::path& target);

}  // namespace tandem::artifact
