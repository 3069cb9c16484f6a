// Checking a commit's SSH signature against an allowed-signers file with ssh-keygen
// (see GitMirror::verify_signature).
#pragma once

#include <tandem/error.hpp>

#include <git2.h>

#include <filesystem>

namespace tandem::detail {

// Ok when an allowed signer made the commit's "gpgsig" SSH signature (namespace "git") and it
// verifies; ErrorCode::policy_denied saying why not otherwise.
Status verify_commit_signature(git_repository* repo, const git_oid* commit,
                               const std::filesystem::path& allowed_signers);

}  // namespace tandem::detail
