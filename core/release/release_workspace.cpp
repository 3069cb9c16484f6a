// Copies of commit snapshots to run in, and their clean-up.
#include "release/release_workspace.hpp"

#include "support/read_only_tree.hpp"
#include "support/writable_copy.hpp"

#include <unistd.h>

namespace tandem::release {

namespace fs = std::filesystem;

namespace {

Error workspace_error(const fs::path& path, const std::string& what, const std::error_code& ec) {
    return make_error(ErrorCode::io, "cannot " + what + ": " + ec.message(), SourceLocation{path.string(), 0, 0});
}

}  // namespace

ReleaseWorkspace::ReleaseWorkspace(fs::path state_dir) : state_dir_(std::move(state_dir)) {}

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
