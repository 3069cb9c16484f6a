// Audit checkpoints as commits on a ref of a git repository: each commit's tree holds
// `checkpoint` (the signed document) and `checkpoint.sig` (its SSH signature), and its parent
// is the checkpoint before it.
#pragma once

#include <tandem/error.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace tandem::audit {

struct StoredCheckpoint {
    std::string commit;     // the commit's id
    std::string document;   // `checkpoint`
    std::string signature;  // `checkpoint.sig`
};

// Every checkpoint on `ref`, newest first; an error when the repository or the ref is missing
// or a commit lacks its files.
Result<std::vector<StoredCheckpoint>> read_checkpoints(const std::filesystem::path& repository, const std::string& ref);

}  // namespace tandem::audit
