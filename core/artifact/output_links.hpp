// Symlinks in an artifact must end inside it: the digest covers a link's text, so a link out of
// the artifact would let code that no digest covers run (issue 13, defect 3).
#pragma once

#include "artifact/manifest.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace tandem::artifact {

// A chain of links longer than this is refused, as the kernel refuses it (ELOOP).
inline constexpr int kMaxLinkHops = 40;

// Follows every symlink of `manifest` (paths relative to `root`) as the kernel would, with
// `root` as the top, and refuses a link that ends outside `outputs` (relative paths; a link
// may end at or under one of them): an absolute target, a `..` above `root`, or a chain
// whose last link leaves. The error names the link, its target and where the chain leaves.
Status check_links_stay_inside(const std::filesystem::path& root, const Manifest& manifest,
                               const std::vector<std::string>& outputs);

// An error if a directory above `relative` (an output) under `root` is a symlink: the output
// would be read through it, from wherever it points.
Status check_no_linked_parent(const std::filesystem::path& root, const std::string& relative);

}  // namespace tandem::artifact
