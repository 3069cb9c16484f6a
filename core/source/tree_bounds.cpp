// Walks a commit's tree depth-first with an explicit stack of open trees (one per level, so
// memory stays within the depth bound), counting as it goes.
#include "source/tree_bounds.hpp"

#include "source/libgit2.hpp"

#include <fmt/format.h>

#include <vector>

namespace tandem::detail {

namespace {

struct Level {
    Tree tree;
    std::size_t next = 0;  // the index of its next entry
    std::string name;      // "" at the root
};

class BoundsWalk {
public:
    BoundsWalk(git_repository* repo, const std::string& commit_id, const TreeBounds& bounds)
        : repo_(repo), commit_(commit_id), bounds_(bounds) {}
    ~BoundsWalk() { git_odb_free(odb_); }
    BoundsWalk(const BoundsWalk&) = delete;
    BoundsWalk& operator=(const BoundsWalk&) = delete;

    Status run(const git_tree* root) {
        if (git_repository_odb(&odb_, repo_) != 0) return unreadable("", last_git_error());
        if (auto opened = enter(git_tree_id(root), ""); !opened) return opened;
        while (!levels_.empty()) {
            Level& level = levels_.back();
            if (level.next == git_tree_entrycount(level.tree.ptr)) {
                levels_.pop_back();
                continue;
            }
            if (auto checked = check(git_tree_entry_byindex(level.tree.ptr, level.next++)); !checked) return checked;
        }
        return Ok{};
    }

private:
    Status enter(const git_oid* id, std::string name) {
        Level level;
        level.name = std::move(name);
        levels_.push_back(std::move(level));
        if (git_tree_lookup(&levels_.back().tree.ptr, repo_, id) != 0) return unreadable(path_to(""), last_git_error());
        return Ok{};
    }

    Status check(const git_tree_entry* entry) {
        const std::string name = git_tree_entry_name(entry);
        if (++entries_ > bounds_.max_entries)
            return refuse(fmt::format("has more than {} entries (the limit); the count crossed it at {}",
                                      bounds_.max_entries, shown_path(name)));
        const git_filemode_t kind = git_tree_entry_filemode(entry);
        if (kind == GIT_FILEMODE_TREE) {
            if (levels_.size() > bounds_.max_depth)
                return refuse(fmt::format("nests directories more than {} levels deep (the limit) at {}",
                                          bounds_.max_depth, shown_path(name)));
            return enter(git_tree_entry_id(entry), name);
        }
        if (kind != GIT_FILEMODE_BLOB && kind != GIT_FILEMODE_BLOB_EXECUTABLE && kind != GIT_FILEMODE_LINK) return Ok{};  // a submodule
        std::size_t size = 0;
        git_object_t type = GIT_OBJECT_INVALID;
        if (git_odb_read_header(&size, &type, odb_, git_tree_entry_id(entry)) != 0)
            return unreadable(path_to(name), last_git_error());
        bytes_ += size;
        if (bytes_ > bounds_.max_bytes)
            return refuse(fmt::format("holds more than {} bytes of files (the limit); the sum crossed it at {}",
                                      bounds_.max_bytes, shown_path(name)));
        return Ok{};
    }

    // The path of `name` in the directory the walk is in.
    std::string path_to(const std::string& name) const {
        std::string path;
        for (const Level& level : levels_)
            if (!level.name.empty()) path += level.name + "/";
        return path + name;
    }

    // For a message: the path's first components when it is long, and its depth.
    std::string shown_path(const std::string& name) const {
        constexpr std::size_t kShown = 120;
        const std::string path = path_to(name);
        const std::string depth = fmt::format(" ({} levels down)", levels_.size());
        if (path.size() <= kShown) return fmt::format("'{}'{}", path, depth);
        std::size_t cut = path.rfind('/', kShown);
        if (cut == std::string::npos || cut == 0) cut = kShown;
        return fmt::format("'{}/...'{}", path.substr(0, cut), depth);
    }

    Error refuse(const std::string& what) const {
        return make_error(
            ErrorCode::source,
            fmt::format("commit {}: its tree {}; refusing the commit (fix the tree in a new commit)", commit_, what));
    }
    Error unreadable(const std::string& path, const std::string& why) const {
        return make_error(
            ErrorCode::source,
            fmt::format("commit {}: cannot read '{}' from the mirror: {} (fetch again)", commit_, path, why));
    }

    git_repository* repo_;
    git_odb* odb_ = nullptr;
    std::string commit_;
    TreeBounds bounds_;
    std::vector<Level> levels_;  // the root first
    std::size_t entries_ = 0;
    std::uint64_t bytes_ = 0;
};

}  // namespace

Status check_tree_bounds(git_repository* repo, const git_tree* root, const std::string& commit_id,
                         const TreeBounds& bounds) {
    return BoundsWalk(repo, commit_id, bounds).run(root);
}

}  // namespace tandem::detail
