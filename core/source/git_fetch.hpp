// One fetch of a mirror's origin by a `git fetch` child process: credentials through its
// environment, a deadline after which its process group is killed.
#pragma once

#include <tandem/error.hpp>
#include <tandem/git_mirror.hpp>

#include <filesystem>
#include <string>

namespace tandem::detail {

// Fetches origin's branches and tags (with prune) into the bare repository at `mirror`;
// `url` (origin's URL) is only for messages.
Status fetch_with_git(const std::filesystem::path& mirror, const std::string& url, const FetchOptions& options);

// The commit origin's branch or tag `ref` points at, asked with `git ls-remote`: nothing is
// fetched, so it answers when a fetch cannot (a commit whose objects take git too long to walk).
Result<std::string> remote_commit_with_git(const std::filesystem::path& mirror, const std::string& url,
                                           const std::string& ref, const FetchOptions& options);

// `text` with every occurrence of `secret` (and of its basic-auth form) replaced by "***".
std::string redact(std::string text, const std::string& secret);

}  // namespace tandem::detail
