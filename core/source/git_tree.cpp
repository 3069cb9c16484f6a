// Reading a project's files at one commit through libgit2, without a working tree.
#include <tandem/git_tree.hpp>

#include "source/libgit2.hpp"
#include "support/path_inside.hpp"

#include <fmt/format.h>

namespace tandem {

using detail::last_git_error;
using detail::Libgit2;
using detail::Object;
using detail::Repository;
using detail::TreeEntry;

struct GitTree::State {
    Libgit2 library;
    Repository repo;
    Object tree;  // the commit's root tree
    std::string commit;
    std::string ref;
    std::string prefix;
};

GitTree::GitTree(std::unique_ptr<State> state) : state_(std::move(state)) {}
GitTree::GitTree(GitTree&&) noexcept = default;
GitTree& GitTree::operator=(GitTree&&) noexcept = default;
GitTree::~GitTree() = default;

const std::string& GitTree::commit() const { return state_->commit; }
std::string GitTree::short_commit() const { return state_->commit.substr(0, 12); }
const std::string& GitTree::ref() const { return state_->ref; }
const std::string& GitTree::prefix() const { return state_->prefix; }

Result<GitTree> GitTree::open(const GitLocation& location) {
    auto state = std::make_unique<State>();
    state->ref = location.ref;
    const std::string where = location.repository.string();
    if (git_repository_open_ext(&state->repo.ptr, where.c_str(), 0, nullptr) != 0)
        return make_error(ErrorCode::source,
                          fmt::format("no git repository at or above '{}': {}", where, last_git_error()));

    Object commit;
    const std::string spec = state->ref + "^{commit}";
    if (git_revparse_single(&commit.ptr, state->repo.ptr, spec.c_str()) != 0)
        return make_error(ErrorCode::source, fmt::format("cannot resolve '{}' to a commit in '{}': {}", state->ref,
                                                         where, last_git_error()));
    state->commit = detail::hex_id(git_object_id(commit.ptr));
    if (git_object_peel(&state->tree.ptr, commit.ptr, GIT_OBJECT_TREE) != 0)
        return make_error(ErrorCode::source, fmt::format("commit {} has no tree: {}", state->commit, last_git_error()));

    const InsideRoot prefix = location.project_dir.empty() ? InsideRoot{} : inside_root(location.project_dir);
    state->prefix = prefix.path;
    if (!prefix)
        return make_error(ErrorCode::source,
                          fmt::format("project directory '{}' leaves the repository; refused", location.project_dir));
    return GitTree(std::move(state));
}

Result<GitLocation> GitTree::locate(const std::filesystem::path& project_dir, std::string ref) {
    Libgit2 library;
    Repository repo;
    const std::string where = project_dir.empty() ? std::string(".") : project_dir.string();
    if (git_repository_open_ext(&repo.ptr, where.c_str(), 0, nullptr) != 0)
        return make_error(
            ErrorCode::source,
            fmt::format("'{}' is not inside a git repository: {} (use --source disk to read the files on disk)", where,
                        last_git_error()));
    const char* workdir = git_repository_workdir(repo.ptr);
    GitLocation location;
    location.ref = std::move(ref);
    if (!workdir) {  // a bare repository: the project is at its top
        location.repository = git_repository_path(repo.ptr);
        return location;
    }
    std::error_code ec;
    const auto top = std::filesystem::weakly_canonical(workdir, ec);
    location.repository = top;
    const InsideRoot inside = resolved_inside(top, where);
    location.project_dir = inside.path;
    if (!inside)
        return make_error(ErrorCode::source, fmt::format("'{}' is outside the work tree at '{}'", where, top.string()));
    return location;
}

Result<std::string> GitTree::read(const std::string& relative_path) const {
    const InsideRoot inside = inside_root(relative_path);
    const std::string& path = inside.path;
    if (!inside || path.empty())
        return make_error(ErrorCode::io, fmt::format("'{}' leaves the project directory; refused", relative_path));
    const std::string full = state_->prefix.empty() ? path : fmt::format("{}/{}", state_->prefix, path);
    const std::string at = " at commit " + short_commit();

    TreeEntry entry;
    auto* tree = reinterpret_cast<git_tree*>(state_->tree.ptr);
    if (git_tree_entry_bypath(&entry.ptr, tree, full.c_str()) != 0)
        return make_error(ErrorCode::io, fmt::format("cannot read '{}'{}: no such file", full, at));
    const git_filemode_t entry_type = git_tree_entry_filemode(entry.ptr);
    if (entry_type == GIT_FILEMODE_LINK)
        return make_error(ErrorCode::io, fmt::format("'{}'{} is a symlink; refused", full, at));
    if (entry_type != GIT_FILEMODE_BLOB && entry_type != GIT_FILEMODE_BLOB_EXECUTABLE)
        return make_error(ErrorCode::io, fmt::format("'{}'{} is not a file", full, at));

    Object blob;
    if (git_tree_entry_to_object(&blob.ptr, state_->repo.ptr, entry.ptr) != 0)
        return make_error(ErrorCode::io, fmt::format("cannot read '{}'{}: {}", full, at, last_git_error()));
    auto* b = reinterpret_cast<git_blob*>(blob.ptr);
    const auto* bytes = static_cast<const char*>(git_blob_rawcontent(b));
    return std::string(bytes, static_cast<std::size_t>(git_blob_rawsize(b)));
}

FileReader GitTree::reader() const {
    return [this](const std::string& relative_path) { return read(relative_path); };
}

}  // namespace tandem
