// A bare mirror of a remote repository: opened or created, fetched with prune, and asked for
// commits, ancestry and changed paths. Snapshots and signatures have files of their own.
#include <tandem/git_mirror.hpp>

#include "source/commit_signature.hpp"
#include "source/git_fetch.hpp"
#include "source/libgit2.hpp"
#include "source/snapshot_writer.hpp"
#include "support/path_inside.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <set>

namespace tandem {

namespace fs = std::filesystem;
using detail::Commit;
using detail::last_git_error;
using detail::Object;
using detail::Reference;
using detail::Remote;
using detail::Tree;

namespace {

constexpr const char* kRemote = "origin";
constexpr const char* kBranchSpec = "+refs/heads/*:refs/heads/*";
constexpr const char* kTagSpec = "+refs/tags/*:refs/tags/*";

CommitInfo describe(const git_commit* commit) {
    CommitInfo info;
    info.id = detail::hex_id(git_commit_id(commit));
    const git_signature* author = git_commit_author(commit);
    info.author = fmt::format("{} <{}>", author->name, author->email);
    const std::string message = git_commit_message(commit);
    info.subject = message.substr(0, message.find('\n'));
    info.time = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(author->when.time));
    return info;
}

bool is_hex_id(const std::string& text) {
    return text.size() >= GIT_OID_MINPREFIXLEN && text.size() <= GIT_OID_HEXSZ &&
           std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

// A local path (no scheme, not scp-like "host:path") where nothing exists: libgit2 only says
// "unsupported URL protocol" about it.
bool is_missing_path(const std::string& url) {
    if (url.find("://") != std::string::npos) return false;
    const std::size_t colon = url.find(':');
    if (colon != std::string::npos && url.find('/') > colon) return false;
    std::error_code ec;
    return !fs::exists(url, ec);
}

// Points the mirror's "origin" at `url`, creating the remote with the mirror's refspecs.
Status set_origin(git_repository* repo, const std::string& url, const std::string& where) {
    Remote remote;
    int rc = git_remote_lookup(&remote.ptr, repo, kRemote);
    if (rc == GIT_ENOTFOUND) {
        rc = git_remote_create_with_fetchspec(&remote.ptr, repo, kRemote, url.c_str(), kBranchSpec);
        if (rc == 0) rc = git_remote_add_fetch(repo, kRemote, kTagSpec);
    } else if (rc == 0 && url != (git_remote_url(remote.ptr) ? git_remote_url(remote.ptr) : "")) {
        rc = git_remote_set_url(repo, kRemote, url.c_str());
    }
    if (rc != 0)
        return make_error(ErrorCode::source,
                          fmt::format("cannot point the git mirror at '{}' to '{}': {} (check the URL)", where, url,
                                      last_git_error()));
    return Ok{};
}

}  // namespace

struct GitMirror::State {
    detail::Libgit2 library;
    detail::Repository repo;
    fs::path path;
    std::string url;

    // The commit an id (full or abbreviated, or of an annotated tag) names.
    Result<Commit> commit_by_id(const std::string& id) const;
    // A commit's tree, or its subtree at `prefix`; an empty handle when there is none.
    Result<Tree> project_tree(const std::string& id, const std::string& prefix) const;
};

Result<Commit> GitMirror::State::commit_by_id(const std::string& id) const {
    if (!is_hex_id(id))
        return make_error(ErrorCode::source, fmt::format("'{}' is not a commit id (4 to 40 hex digits)", id));
    git_oid oid;
    Object object;
    int rc = git_oid_fromstrn(&oid, id.c_str(), id.size());
    if (rc == 0) rc = git_object_lookup_prefix(&object.ptr, repo.ptr, &oid, id.size(), GIT_OBJECT_ANY);
    if (rc == GIT_EAMBIGUOUS)
        return make_error(
            ErrorCode::source,
            fmt::format("commit id '{}' is ambiguous in the mirror of {}; give more of its digits", id, url));
    if (rc != 0)
        return make_error(ErrorCode::source,
                          fmt::format("no commit '{}' in the mirror of {} (fetch first, or check the id)", id, url));
    Object peeled;
    if (git_object_peel(&peeled.ptr, object.ptr, GIT_OBJECT_COMMIT) != 0)
        return make_error(ErrorCode::source, fmt::format("'{}' in the mirror of {} is not a commit", id, url));
    Commit commit;
    commit.ptr = reinterpret_cast<git_commit*>(std::exchange(peeled.ptr, nullptr));
    return commit;
}

Result<Tree> GitMirror::State::project_tree(const std::string& id, const std::string& prefix) const {
    auto commit = commit_by_id(id);
    if (!commit) return commit.error();
    Tree root;
    if (git_commit_tree(&root.ptr, commit->ptr) != 0)
        return make_error(ErrorCode::source, fmt::format("commit {} has no tree: {}", id, last_git_error()));
    if (prefix.empty()) return root;
    detail::TreeEntry entry;
    Tree subtree;
    if (git_tree_entry_bypath(&entry.ptr, root.ptr, prefix.c_str()) != 0 ||
        git_tree_entry_type(entry.ptr) != GIT_OBJECT_TREE)
        return subtree;  // no such directory at this commit: nothing below it
    if (git_tree_lookup(&subtree.ptr, repo.ptr, git_tree_entry_id(entry.ptr)) != 0)
        return make_error(ErrorCode::source,
                          fmt::format("cannot read '{}' at commit {}: {}", prefix, id, last_git_error()));
    return subtree;
}

GitMirror::GitMirror(std::unique_ptr<State> state) : state_(std::move(state)) {}
GitMirror::GitMirror(GitMirror&&) noexcept = default;
GitMirror& GitMirror::operator=(GitMirror&&) noexcept = default;
GitMirror::~GitMirror() = default;

const std::string& GitMirror::url() const { return state_->url; }
const fs::path& GitMirror::path() const { return state_->path; }

Result<GitMirror> GitMirror::open(const fs::path& mirror_dir, const std::string& url) {
    auto state = std::make_unique<State>();
    state->path = mirror_dir;
    state->url = url;
    const std::string where = mirror_dir.string();
    if (url.empty())
        return make_error(ErrorCode::source, fmt::format("no URL given for the git mirror at '{}'", where));

    std::error_code ec;
    const bool fresh = !fs::exists(mirror_dir, ec) || fs::is_empty(mirror_dir, ec);
    if (fresh) {
        fs::create_directories(mirror_dir, ec);
        if (ec)
            return make_error(ErrorCode::io,
                              fmt::format("cannot create the git mirror directory '{}': {}", where, ec.message()));
        if (git_repository_init(&state->repo.ptr, where.c_str(), 1) != 0)
            return make_error(ErrorCode::source,
                              fmt::format("cannot create a bare repository at '{}': {}", where, last_git_error()));
    } else if (git_repository_open_ext(&state->repo.ptr, where.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0) {
        return make_error(
            ErrorCode::source,
            fmt::format("'{}' is neither empty nor a git mirror ({}); remove it or choose another state directory",
                        where, last_git_error()));
    } else if (!git_repository_is_bare(state->repo.ptr)) {
        return make_error(
            ErrorCode::source,
            fmt::format(
                "'{}' is a repository with a working tree, not a mirror; give the mirror a directory of its own",
                where));
    }
    auto origin = set_origin(state->repo.ptr, url, where);
    if (!origin) return origin.error();
    return GitMirror(std::move(state));
}

Status GitMirror::fetch(const FetchOptions& options) {
    if (is_missing_path(state_->url))
        return make_error(
            ErrorCode::source,
            fmt::format("cannot fetch from {}: there is no repository at that path (check the path)", state_->url));
    return detail::fetch_with_git(state_->path, state_->url, options);
}

Result<std::string> GitMirror::remote_commit(const std::string& ref, const FetchOptions& options) const {
    return detail::remote_commit_with_git(state_->path, state_->url, ref, options);
}

Result<CommitInfo> GitMirror::resolve(const std::string& ref) const {
    // A branch before a tag of the same name, then a full ref name, then a commit id.
    for (const std::string& name : {"refs/heads/" + ref, "refs/tags/" + ref, ref}) {
        if (name.rfind("refs/", 0) != 0) continue;
        Reference reference;
        if (git_reference_lookup(&reference.ptr, state_->repo.ptr, name.c_str()) != 0) continue;
        Object peeled;
        if (git_reference_peel(&peeled.ptr, reference.ptr, GIT_OBJECT_COMMIT) != 0)
            return make_error(ErrorCode::source, fmt::format("'{}' in the mirror of {} does not point to a commit: {}",
                                                             name, state_->url, last_git_error()));
        return describe(reinterpret_cast<const git_commit*>(peeled.ptr));
    }
    if (!is_hex_id(ref))
        return make_error(
            ErrorCode::source,
            fmt::format("'{}' is neither a branch, a tag nor a commit id of {} (fetch first, or check the name)", ref,
                        state_->url));
    return commit(ref);
}

Result<std::vector<std::pair<std::string, CommitInfo>>> GitMirror::branches() const {
    git_branch_iterator* raw = nullptr;
    if (git_branch_iterator_new(&raw, state_->repo.ptr, GIT_BRANCH_LOCAL) != 0)
        return make_error(ErrorCode::source, fmt::format("cannot list the branches of the mirror of {}: {}",
                                                         state_->url, last_git_error()));
    std::unique_ptr<git_branch_iterator, void (*)(git_branch_iterator*)> iterator(raw, git_branch_iterator_free);
    std::vector<std::pair<std::string, CommitInfo>> out;
    Reference reference;
    git_branch_t type{};
    while (git_branch_next(&reference.ptr, &type, iterator.get()) == 0) {
        Reference current;
        std::swap(current.ptr, reference.ptr);
        const char* name = nullptr;
        Object peeled;
        if (git_branch_name(&name, current.ptr) != 0 ||
            git_reference_peel(&peeled.ptr, current.ptr, GIT_OBJECT_COMMIT) != 0)
            continue;  // a branch that names no commit is no preview's
        out.emplace_back(name, describe(reinterpret_cast<const git_commit*>(peeled.ptr)));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
}

Result<CommitInfo> GitMirror::commit(const std::string& id) const {
    auto found = state_->commit_by_id(id);
    if (!found) return found.error();
    return describe(found->ptr);
}

Result<bool> GitMirror::is_ancestor(const std::string& ancestor, const std::string& descendant) const {
    auto older = state_->commit_by_id(ancestor);
    if (!older) return older.error();
    auto newer = state_->commit_by_id(descendant);
    if (!newer) return newer.error();
    const git_oid* older_id = git_commit_id(older->ptr);
    const git_oid* newer_id = git_commit_id(newer->ptr);
    if (git_oid_equal(older_id, newer_id)) return true;
    const int rc = git_graph_descendant_of(state_->repo.ptr, newer_id, older_id);
    if (rc < 0)
        return make_error(ErrorCode::source, fmt::format("cannot tell whether {} is an ancestor of {}: {}", ancestor,
                                                         descendant, last_git_error()));
    return rc == 1;
}

Result<std::vector<CommitInfo>> GitMirror::first_parent_line(const std::string& from, const std::string& to,
                                                             std::size_t limit) const {
    auto base = state_->commit_by_id(from);
    if (!base) return base.error();
    auto current = state_->commit_by_id(to);
    if (!current) return current.error();
    const git_oid base_id = *git_commit_id(base->ptr);
    std::vector<CommitInfo> line;
    Commit at = std::move(*current);
    while (line.size() < limit && !git_oid_equal(git_commit_id(at.ptr), &base_id)) {
        line.push_back(describe(at.ptr));
        if (git_commit_parentcount(at.ptr) == 0) return std::vector<CommitInfo>{};
        Commit parent;
        if (git_commit_parent(&parent.ptr, at.ptr, 0) != 0)
            return make_error(ErrorCode::source, "cannot read the parent of commit " + line.back().id + ": " +
                                                     last_git_error());
        at = std::move(parent);
    }
    if (!git_oid_equal(git_commit_id(at.ptr), &base_id)) return std::vector<CommitInfo>{};
    std::reverse(line.begin(), line.end());
    return line;
}

Result<std::vector<std::string>> GitMirror::changed_paths(const std::string& from, const std::string& to,
                                                          const std::string& project_dir) const {
    const InsideRoot inside = project_dir.empty() ? InsideRoot{} : inside_root(project_dir);
    if (!inside)
        return make_error(ErrorCode::source,
                          fmt::format("project directory '{}' leaves the repository; refused", project_dir));
    const std::string& prefix = inside.path;
    auto new_tree = state_->project_tree(to, prefix);
    if (!new_tree) return new_tree.error();
    Tree old_tree;
    if (!from.empty()) {
        auto tree = state_->project_tree(from, prefix);
        if (!tree) return tree.error();
        old_tree = std::move(*tree);
    }
    detail::Diff diff;
    git_diff_options options = GIT_DIFF_OPTIONS_INIT;
    if (git_diff_tree_to_tree(&diff.ptr, state_->repo.ptr, old_tree.ptr, new_tree->ptr, &options) != 0)
        return make_error(ErrorCode::source, fmt::format("cannot compare {} with {}: {}",
                                                         from.empty() ? "nothing" : from, to, last_git_error()));
    // Both sides of every delta: a rename or a move changes the old path and the new one.
    std::set<std::string> paths;
    for (std::size_t i = 0; i < git_diff_num_deltas(diff.ptr); ++i) {
        const git_diff_delta* delta = git_diff_get_delta(diff.ptr, i);
        if (delta->old_file.path) paths.insert(delta->old_file.path);
        if (delta->new_file.path) paths.insert(delta->new_file.path);
    }
    return std::vector<std::string>(paths.begin(), paths.end());
}

Result<fs::path> GitMirror::materialize(const std::string& commit, const fs::path& snapshots_dir) const {
    auto found = state_->commit_by_id(commit);
    if (!found) return found.error();
    return detail::write_snapshot(state_->repo.ptr, found->ptr, snapshots_dir);
}

Status GitMirror::verify_signature(const std::string& commit, const fs::path& allowed_signers) const {
    auto found = state_->commit_by_id(commit);
    if (!found) return found.error();
    return detail::verify_commit_signature(state_->repo.ptr, git_commit_id(found->ptr), allowed_signers);
}

}  // namespace tandem
