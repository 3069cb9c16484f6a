// The git source of truth for shipper: a bare mirror of a repository kept under the state
// directory, fetched on demand, with each deployed commit materialized read-only in a
// snapshot directory of its own. Nothing here touches a working tree.
#pragma once

#include <tandem/error.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tandem {

struct CommitInfo {
    std::string id;            // the full commit id (40 hex digits)
    std::string author;        // "Ada Lovelace <ada@example.com>"
    std::string subject;       // the first line of the message
    std::chrono::system_clock::time_point time;  // the author's time

    std::string short_id() const { return id.substr(0, 12); }
};

// How a fetch reaches a remote that needs more than a path or a public URL, and how long it may
// take. The fetch runs in a `git fetch` child process (libgit2 1.5 has no timeout, and a call
// blocked in it cannot be abandoned): at the deadline its process group is killed.
struct FetchOptions {
    std::chrono::milliseconds timeout{60000};  // then the fetch is killed and reported
    // ssh:// and scp-like (user@host:path) URLs: this private key; "" = the ssh agent
    // (SSH_AUTH_SOCK) or ssh's own default keys.
    std::filesystem::path ssh_key;
    // The hosts whose keys are trusted ("" = ~/.ssh/known_hosts): an unknown or changed host key
    // refuses the fetch.
    std::filesystem::path known_hosts;
    // http(s) URLs: sent as basic auth ("x-access-token:TOKEN", as GitHub, GitLab and Gitea
    // accept) on every request, through git's environment, never on a command line; never
    // printed: errors have it replaced by "***".
    std::string token;
};

class GitMirror {
public:
    // Opens the bare mirror at `mirror_dir`, creating it (and its parents) if missing, and
    // points its origin at `url` (a path or any URL libgit2 can fetch). Nothing is fetched yet.
    static Result<GitMirror> open(const std::filesystem::path& mirror_dir, const std::string& url);

    GitMirror(GitMirror&&) noexcept;
    GitMirror& operator=(GitMirror&&) noexcept;
    ~GitMirror();

    const std::string& url() const;
    const std::filesystem::path& path() const;

    // Fetches every branch and tag of origin into the mirror (branches deleted there are
    // pruned). Errors (ErrorCode::source) name the URL and git's reason; a fetch past
    // options.timeout is killed, with an ErrorCode::timed_out error that says so.
    Status fetch(const FetchOptions& options = {});
    // The commit id origin's branch or tag `ref` points at now, from `git ls-remote` (nothing
    // is fetched): it names a commit whose fetch does not finish.
    Result<std::string> remote_commit(const std::string& ref, const FetchOptions& options = {}) const;

    // A branch, a tag (annotated or not), or a commit id (full or abbreviated) of the mirror,
    // peeled to its commit. A branch name is looked up before a tag of the same name.
    Result<CommitInfo> resolve(const std::string& ref) const;
    // Every branch of the mirror (as of the last fetch) with the commit it points at, by name.
    Result<std::vector<std::pair<std::string, CommitInfo>>> branches() const;
    // The commit with this id (full or abbreviated).
    Result<CommitInfo> commit(const std::string& id) const;
    // True when `ancestor` is `descendant` or one of its ancestors.
    Result<bool> is_ancestor(const std::string& ancestor, const std::string& descendant) const;
    // The commits on the first-parent line from `from` (excluded) to `to` (included), oldest
    // first: what a branch took, one commit at a time, to get from one to the other. Empty when
    // `from` is not on that line within `limit` commits of `to` (a force-push, a rollback).
    Result<std::vector<CommitInfo>> first_parent_line(const std::string& from, const std::string& to,
                                                      std::size_t limit) const;

    // Paths (relative to `project_dir`, "" = the top of the tree) of files that differ between
    // two commits, below project_dir only. An empty `from` lists every file of `to`.
    Result<std::vector<std::string>> changed_paths(const std::string& from, const std::string& to,
                                                   const std::string& project_dir) const;

    // Writes the tree of `commit` to `snapshots_dir/<full id>/` with files 0444 (0555 when
    // executable) and directories 0555, and returns that directory. A snapshot that exists
    // already is returned as it is. Entries that could escape the snapshot (names "..", ".",
    // ".git", names with "/", absolute or escaping symlink targets) and submodules refuse the
    // whole commit with an ErrorCode::source error naming the path; nothing is left behind.
    Result<std::filesystem::path> materialize(const std::string& commit,
                                              const std::filesystem::path& snapshots_dir) const;

    // Checks the commit's SSH signature with `ssh-keygen -Y find-principals` and
    // `ssh-keygen -Y verify` (namespace "git") against an allowed-signers file in
    // ssh-keygen's format. An unsigned commit, a signature no allowed signer made, or a
    // signature that does not verify is an ErrorCode::policy_denied error that says which.
    Status verify_signature(const std::string& commit, const std::filesystem::path& allowed_signers) const;

private:
    struct State;
    explicit GitMirror(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

}  // namespace tandem
