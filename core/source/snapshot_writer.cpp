// Materializing a commit read-only: a temporary directory beside the snapshot is filled from the
// tree, locked down (files 0444/0555, directories 0555) and renamed into place in one step.
#include "source/snapshot_writer.hpp"

#include "support/read_only_tree.hpp"

#include "source/libgit2.hpp"
#include "source/tree_bounds.hpp"
#include "source/tree_walk.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace tandem::detail {

namespace fs = std::filesystem;

std::string refused_name_reason(std::string_view name) {
    if (name.empty()) return "has an empty name";
    if (name == "." || name == "..") return "would escape the snapshot";
    if (name.find('/') != std::string_view::npos) return "has a '/' in its name and would escape the snapshot";
    if (name.find('\0') != std::string_view::npos) return "has a NUL byte in its name";
    const auto lower = [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); };
    std::string folded(name.size(), '\0');
    std::transform(name.begin(), name.end(), folded.begin(), lower);
    if (folded == ".git") return "is named '.git', which would make the snapshot a repository of its own";
    return {};
}

std::string refused_link_reason(std::string_view link_dir, std::string_view target) {
    const std::string quoted = fmt::format("'{}'", target);
    if (target.empty()) return "is a symlink with an empty target";
    if (target.find('\0') != std::string_view::npos) return "is a symlink whose target has a NUL byte";
    if (target.front() == '/') return fmt::format("is a symlink to the absolute path {}, outside the snapshot", quoted);
    std::size_t depth = link_dir.empty() ? 0 : 1 + static_cast<std::size_t>(std::count(link_dir.begin(), link_dir.end(), '/'));
    bool after_name = false;
    std::size_t start = 0;
    while (start <= target.size()) {
        const std::size_t end = std::min(target.find('/', start), target.size());
        const std::string_view segment = target.substr(start, end - start);
        start = end + 1;
        if (segment.empty() || segment == ".") continue;
        if (segment != "..") {
            after_name = true;
            continue;
        }
        if (after_name)
            return fmt::format("is a symlink to {}, with '..' after a name that may itself be a symlink", quoted);
        if (depth == 0) return fmt::format("is a symlink to {}, which would escape the snapshot", quoted);
        --depth;
    }
    return {};
}

namespace {

bool write_all(int fd, const char* bytes, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, bytes, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// Removes a snapshot directory, partial or whole: its directories are made writable first,
// since a filled one is 0555.
// Writes a tree's entries below a directory, checking each before anything of it is written.
class SnapshotWriter {
public:
    SnapshotWriter(git_repository* repo, std::string short_id) : repo_(repo), short_id_(std::move(short_id)) {}

    Status write_tree(const git_tree* tree, const fs::path& dir, const std::string& relative) const {
        for (std::size_t i = 0; i < git_tree_entrycount(tree); ++i) {
            auto written = write_entry(git_tree_entry_byindex(tree, i), dir, relative);
            if (!written) return written;
        }
        return Ok{};
    }

private:
    Status write_entry(const git_tree_entry* entry, const fs::path& dir, const std::string& parent) const {
        const std::string name = git_tree_entry_name(entry);
        const std::string relative = join_relative(parent, name);
        if (const auto why = refused_name_reason(name); !why.empty()) return refuse(relative, why);
        const fs::path target = dir / name;
        switch (git_tree_entry_filemode(entry)) {
        case GIT_FILEMODE_TREE: return write_directory(entry, target, relative);
        case GIT_FILEMODE_BLOB: return write_file(entry, target, relative, 0444);
        case GIT_FILEMODE_BLOB_EXECUTABLE: return write_file(entry, target, relative, 0555);
        case GIT_FILEMODE_LINK: return write_link(entry, target, relative, parent);
        case GIT_FILEMODE_COMMIT:
            return refuse(relative, "is a submodule, which snapshots cannot hold (vendor its files instead)");
        default: return refuse(relative, "has a file mode git does not know");
        }
    }

    Status write_directory(const git_tree_entry* entry, const fs::path& dir, const std::string& relative) const {
        Tree tree;
        if (git_tree_lookup(&tree.ptr, repo_, git_tree_entry_id(entry)) != 0) return missing(relative);
        if (::mkdir(dir.c_str(), 0700) != 0) return failure(relative, "cannot create directory");
        auto filled = write_tree(tree.ptr, dir, relative);
        if (!filled) return filled;
        if (::chmod(dir.c_str(), 0555) != 0) return failure(relative, "cannot set mode 0555 on directory");
        return Ok{};
    }

    Status write_file(const git_tree_entry* entry, const fs::path& file, const std::string& relative,
                      mode_t mode) const {
        Blob blob;
        if (git_blob_lookup(&blob.ptr, repo_, git_tree_entry_id(entry)) != 0) return missing(relative);
        const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) return failure(relative, "cannot create file");
        const auto* bytes = static_cast<const char*>(git_blob_rawcontent(blob.ptr));
        bool ok = write_all(fd, bytes, static_cast<std::size_t>(git_blob_rawsize(blob.ptr)));
        ok = ok && ::fchmod(fd, mode) == 0;
        const int saved = errno;
        ok = (::close(fd) == 0) && ok;
        if (!ok) errno = saved;
        return ok ? Status(Ok{}) : failure(relative, "cannot write file");
    }

    Status write_link(const git_tree_entry* entry, const fs::path& link, const std::string& relative,
                      const std::string& parent) const {
        Blob blob;
        if (git_blob_lookup(&blob.ptr, repo_, git_tree_entry_id(entry)) != 0) return missing(relative);
        const std::string target(static_cast<const char*>(git_blob_rawcontent(blob.ptr)),
                                 static_cast<std::size_t>(git_blob_rawsize(blob.ptr)));
        if (const auto why = refused_link_reason(parent, target); !why.empty()) return refuse(relative, why);
        if (::symlink(target.c_str(), link.c_str()) != 0) return failure(relative, "cannot create symlink");
        return Ok{};
    }

    Error refuse(const std::string& relative, const std::string& why) const {
        return make_error(
            ErrorCode::source,
            fmt::format("commit {}: tree entry '{}' {}; refusing the commit (fix the tree in a new commit)", short_id_,
                        relative, why));
    }
    Error missing(const std::string& relative) const {
        return make_error(ErrorCode::source,
                          fmt::format("commit {}: cannot read '{}' from the mirror: {} (fetch again)", short_id_,
                                      relative, last_git_error()));
    }
    Error failure(const std::string& relative, const std::string& what) const {
        return make_error(
            ErrorCode::io,
            fmt::format(
                "commit {}: {} '{}' in the snapshot: {} (check the space and permissions of the state directory)",
                short_id_, what, relative, std::strerror(errno)));
    }

    git_repository* repo_;
    std::string short_id_;
};

// A fresh directory beside the snapshot's final place, so the last step is one rename.
Result<fs::path> make_temporary_dir(const fs::path& snapshots_dir, const std::string& id) {
    std::error_code ec;
    fs::create_directories(snapshots_dir, ec);
    if (ec)
        return make_error(ErrorCode::io,
                          fmt::format("cannot create the snapshots directory '{}': {} (check its permissions)",
                                      snapshots_dir.string(), ec.message()));
    std::string pattern = (snapshots_dir / (fmt::format(".{}.partial-XXXXXX", id))).string();
    if (!::mkdtemp(pattern.data()))
        return make_error(ErrorCode::io,
                          fmt::format("cannot create a directory in '{}': {} (check its space and permissions)",
                                      snapshots_dir.string(), std::strerror(errno)));
    return fs::path(pattern);
}

}  // namespace

Result<fs::path> write_snapshot(git_repository* repo, const git_commit* commit, const fs::path& snapshots_dir) {
    const std::string id = hex_id(git_commit_id(commit));
    const std::string short_id = id.substr(0, 12);
    const fs::path snapshot = snapshots_dir / id;
    std::error_code ec;
    if (fs::is_directory(snapshot, ec)) return snapshot;  // only whole snapshots are ever renamed into place

    Tree tree;
    if (git_commit_tree(&tree.ptr, commit) != 0)
        return make_error(ErrorCode::source,
                          fmt::format("commit {} has no tree: {} (fetch again)", short_id, last_git_error()));
    // Before anything walks the tree (the writer below recurses per directory).
    if (auto bounded = check_tree_bounds(repo, tree.ptr, id); !bounded) return bounded.error();
    auto temporary = make_temporary_dir(snapshots_dir, id);
    if (!temporary) return temporary.error();

    Status written = SnapshotWriter(repo, short_id).write_tree(tree.ptr, *temporary, "");
    if (written && ::chmod(temporary->c_str(), 0555) != 0)
        written = make_error(ErrorCode::io, fmt::format("commit {}: cannot make '{}' read-only: {}", short_id,
                                                        temporary->string(), std::strerror(errno)));
    if (!written) {
        (void)remove_read_only_tree(*temporary);
        return written.error();
    }
    if (::rename(temporary->c_str(), snapshot.c_str()) != 0) {
        const int error_number = errno;
        (void)remove_read_only_tree(*temporary);
        if (fs::is_directory(snapshot, ec)) return snapshot;  // another writer finished first
        return make_error(ErrorCode::io,
                          fmt::format("commit {}: cannot move the snapshot into '{}': {} (remove whatever is there)",
                                      short_id, snapshot.string(), std::strerror(error_number)));
    }
    return snapshot;
}

}  // namespace tandem::detail
