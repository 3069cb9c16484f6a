// The bounds a commit's tree must keep before anything walks it: how deep its directories
// nest, how many entries it has and how many bytes its files hold. Checked without recursion
// and stopped at the first bound crossed, so a hostile tree (100,000 levels deep, or one
// subtree listed a million times) costs at most the limit's worth of reads.
#pragma once

#include <tandem/error.hpp>

#include <git2.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace tandem::detail {

struct TreeBounds {
    // Directories nested below the commit's root; 256 is far beyond real projects (a deep
    // node_modules reaches a few dozen) and well inside PATH_MAX (4096) for short names.
    std::size_t max_depth = 256;
    std::size_t max_entries = 1'000'000;                 // files, links and directories, counted per path
    std::uint64_t max_bytes = 4ull * 1024 * 1024 * 1024;  // the files' sizes added up (4 GiB)
};

// Ok when the tree of commit `commit_id` keeps `bounds`; otherwise an ErrorCode::source error
// naming the commit (full id), the path where the bound was crossed and the bound.
Status check_tree_bounds(git_repository* repo, const git_tree* root, const std::string& commit_id,
                         const TreeBounds& bounds = {});

}  // namespace tandem::detail
