// The directories of shipper's state: the bare mirror, one read-only snapshot per commit,
// scratch build directories, one release directory per deployed commit (the snapshot's files
// with build outputs linked from the store), the artifact store and the services' state.
#pragma once

#include <tandem/error.hpp>

#include <filesystem>
#include <set>
#include <string>

namespace tandem::release {

class ReleaseWorkspace {
public:
    explicit ReleaseWorkspace(std::filesystem::path state_dir);

    const std::filesystem::path& state_dir() const { return state_dir_; }
    std::filesystem::path mirror() const { return state_dir_ / "mirror.git"; }
    std::filesystem::path snapshots() const { return state_dir_ / "snapshots"; }
    std::filesystem::path store() const { return state_dir_ / "store"; }
    std::filesystem::path history_file() const { return state_dir_ / "releases.json"; }
    std::filesystem::path control_socket() const { return state_dir_ / "control.sock"; }
    std::filesystem::path release_dir(const std::string& commit) const { return state_dir_ / "releases" / commit; }
    // The services' `state:` directories: beside the releases, never in one, so that data
    // outlives every deploy and rollback.
    std::filesystem::path state_root() const { return state_dir_ / "state"; }

    // Where builds run, each in a scratch copy of its commit's snapshot (see FileTreeBuilder).
    std::filesystem::path builds() const { return state_dir_ / "builds"; }
    // The release directory of `commit`, copied from its snapshot the first time.
    Result<std::filesystem::path> ensure_release_dir(const std::string& commit,
                                                     const std::filesystem::path& snapshot) const;
    // Removes the snapshots and release directories of every commit not in `keep`.
    void retain_only(const std::set<std::string>& keep) const;

private:
    std::filesystem::path state_dir_;
};

}  // namespace tandem::release
