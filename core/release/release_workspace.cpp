// Copies of commit snapshots to build and run in, and their clean-up.
#include "release/release_workspace.hpp"

#include "support/read_only_tree.hpp"

#include <unistd.h>

namespace tandem::release {

namespace fs = std::filesystem;

namespace {

Error workspace_error(const fs::path& path, const std::string& what, const std::error_code& ec) {
    return make_error(ErrorCode::io, "cannot " + what + ": " + ec.message(), SourceLocation{path.string(), 0, 0});
}

// Copies a snapshot to `to` (symlinks as symlinks) and makes its directories writable, so that
// builds can write their outputs and services their files; the copied files keep their modes.
Status copy_writable(const fs::path& from, const fs::path& to) {
    std::error_code ec;
    fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec) return workspace_error(to, "copy the snapshot " + from.string(), ec);
    fs::permissions(to, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec, ec);
    for (auto it = fs::recursive_directory_iterator(to, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        if (it->is_directory() && !it->is_symlink())
            fs::permissions(it->path(), fs::perms::owner_write, fs::perm_options::add, ec);
    }
    if (ec) return workspace_error(to, "make the copy writable", ec);
    return Ok{};
}

}  // namespace

ReleaseWorkspace::ReleaseWorkspace(fs::path state_dir) : state_dir_(std::move(state_dir)) {}

Result<fs::path> ReleaseWorkspace::fresh_build_dir(const std::string& commit, const fs::path& snapshot) const {
    const fs::path dir = state_dir_ / "builds" / commit;
    (void)remove_read_only_tree(dir);
    std::error_code ec;
    fs::create_directories(dir.parent_path(), ec);
    if (ec) return workspace_error(dir.parent_path(), "create the build directory", ec);
    if (auto copied = copy_writable(snapshot, dir); !copied) {
        (void)remove_read_only_tree(dir);
        return copied.error();
    }
    return dir;
}

void ReleaseWorkspace::remove_build_dir(const std::string& commit) const {
    (void)remove_read_only_tree(state_dir_ / "builds" / commit);
}

Result<fs::path> ReleaseWorkspace::ensure_release_dir(const std::string& commit, const fs::path& snapshot) const {
    const fs::path dir = release_dir(commit);
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return dir;
    fs::create_directories(dir.parent_path(), ec);
    if (ec) return workspace_error(dir.parent_path(), "create the releases directory", ec);
    // Copied beside its place and renamed in, so a release directory is never half there.
    fs::path tmp = dir;
    tmp += ".tmp." + std::to_string(::getpid());
    (void)remove_read_only_tree(tmp);
    if (auto copied = copy_writable(snapshot, tmp); !copied) {
        (void)remove_read_only_tree(tmp);
        return copied.error();
    }
    fs::rename(tmp, dir, ec);
    if (ec) {
        (void)remove_read_only_tree(tmp);
        return workspace_error(dir, "move the release directory into place", ec);
    }
    return dir;
}

void ReleaseWorkspace::retain_only(const std::set<std::string>& keep) const {
    for (const fs::path& parent : {snapshots(), state_dir_ / "releases"}) {
        std::error_code ec;
        for (auto it = fs::directory_iterator(parent, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
            if (!keep.count(it->path().filename().string())) (void)remove_read_only_tree(it->path());
        }
    }
}

}  // namespace tandem::release
