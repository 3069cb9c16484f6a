// Immutable artifacts: a build's declared outputs copied into a content-addressed store
// (`<root>/sha256/<hex>/`, read-only), named by the digest of their content. A service runs
// from the store, and the digest is checked again before every start.
#pragma once

#include <tandem/error.hpp>

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tandem {

class ArtifactStore {
public:
    // The store under `root` (created on first put).
    explicit ArtifactStore(std::filesystem::path root);

    const std::filesystem::path& root() const { return root_; }

    // Copies `outputs` (files or directories, relative to `dir`) into the store and returns
    // the artifact's digest, "sha256:<64 hex>". The digest covers each output's relative
    // path, type, executable bit and bytes (a symlink: its target), in path order, so equal
    // outputs give equal digests wherever they were built. An artifact already stored is
    // reused, not copied again. A missing output is an ErrorCode::io error naming it.
    Result<std::string> put(const std::filesystem::path& dir, const std::vector<std::string>& outputs);

    // The directory holding an artifact: `<root>/sha256/<hex>/` (the outputs at their relative paths).
    std::filesystem::path path_of(const std::string& digest) const;
    bool contains(const std::string& digest) const;

    // Hashes the stored artifact again; a file changed, added or removed since it was stored
    // is an ErrorCode::io error that names the artifact and says it was modified.
    Status verify(const std::string& digest) const;

    // Makes each of `outputs` under `dir` a symlink to the same path in the stored artifact
    // (parents created, anything in the way replaced), so that a service run in `dir` runs the
    // stored files.
    Status link_outputs(const std::string& digest, const std::filesystem::path& dir,
                        const std::vector<std::string>& outputs) const;

    // A build key (the digest build_key() gives: inputs, command, env, ...) remembered for its
    // artifact, so that a build with the same key reuses the stored artifact instead of
    // running. lookup() returns the digest only if the artifact is still stored.
    std::optional<std::string> lookup(const std::string& key) const;
    Status remember(const std::string& key, const std::string& digest);

    // Removes every artifact not in `keep`, and keys naming removed artifacts.
    Status retain_only(const std::set<std::string>& keep);

private:
    std::filesystem::path root_;
};

// The digest `put` would give `outputs` under `dir`, without storing anything.
Result<std::string> artifact_digest(const std::filesystem::path& dir, const std::vector<std::string>& outputs);

}  // namespace tandem
