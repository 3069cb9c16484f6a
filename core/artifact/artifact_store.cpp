// The content-addressed artifact store: put, verify, link, and the build-key index.
#include <tandem/artifact_store.hpp>

#include "artifact/file_tree.hpp"
#include "artifact/manifest.hpp"
#include "artifact/output_links.hpp"
#include "support/durable_file.hpp"
#include "support/read_only_tree.hpp"
#include "support/sha256.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sys/stat.h>

namespace tandem {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "sha256:";

bool is_digest(std::string_view digest) {
    if (digest.size() != kPrefix.size() + 64 || !digest.starts_with(kPrefix)) return false;
    for (const char c : digest.substr(kPrefix.size()))
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

std::string hex_of(const std::string& digest) { return digest.substr(std::min(kPrefix.size(), digest.size())); }

// "sha256:abcd1234…" for messages.
std::string short_digest(const std::string& digest) { return digest.substr(0, kPrefix.size() + 8) + "…"; }

Error not_a_digest(const std::string& digest) {
    return make_error(ErrorCode::invalid_value,
                      fmt::format("'{}' is not an artifact digest (sha256:<64 hex digits>)", digest));
}

Status make_directories(std::initializer_list<fs::path> dirs) {
    for (const auto& dir : dirs) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) return make_error(ErrorCode::io, fmt::format("cannot create {}: {}", dir.string(), ec.message()));
    }
    return Ok{};
}

// Checks the copy in `temp` against `source` and renames it to its place in the store.
Result<std::string> move_into_store(const fs::path& root, const fs::path& temp, const artifact::Manifest& source,
                                    const fs::path& dir) {
    const std::string digest = artifact::manifest_digest(source);
    auto copied = artifact::manifest_of_tree(temp);
    if (!copied) return copied.error();
    if (artifact::manifest_digest(*copied) != digest)
        return make_error(
            ErrorCode::io,
            fmt::format("the outputs under {} changed while they were stored ({}); build again", dir.string(),
                        artifact::first_difference(artifact::manifest_text(source), *copied)));
    const std::string hex = hex_of(digest);
    // Kept beside the artifact so that verify() can name the path that changed.
    if (Status kept = replace_file_durably(root / "manifests" / hex, artifact::manifest_text(source)); !kept)
        return kept.error();
    const fs::path target = root / "sha256" / hex;
    if (::rename(temp.c_str(), target.c_str()) != 0) {
        if (errno != EEXIST && errno != ENOTEMPTY)
            return artifact::errno_error(fmt::format("move {} to", temp.string()), target);
        (void)remove_read_only_tree(temp);  // stored meanwhile by someone else: same content
        return digest;
    }
    if (::chmod(target.c_str(), 0555) != 0) return artifact::errno_error("make read-only", target);
    return digest;
}

}  // namespace

Result<std::string> artifact_digest(const fs::path& dir, const std::vector<std::string>& outputs) {
    auto manifest = artifact::manifest_of_outputs(dir, outputs);
    if (!manifest) return manifest.error();
    return artifact::manifest_digest(*manifest);
}

ArtifactStore::ArtifactStore(fs::path root) : root_(std::move(root)) {}

fs::path ArtifactStore::path_of(const std::string& digest) const { return root_ / "sha256" / hex_of(digest); }

bool ArtifactStore::contains(const std::string& digest) const {
    std::error_code ec;
    return is_digest(digest) && fs::is_directory(path_of(digest), ec);
}

Result<std::string> ArtifactStore::put(const fs::path& dir, const std::vector<std::string>& outputs) {
    auto source = artifact::manifest_of_outputs(dir, outputs);
    if (!source) return source.error();
    const std::string digest = artifact::manifest_digest(*source);
    if (contains(digest)) return digest;
    if (Status made = make_directories({root_ / "tmp", root_ / "sha256"}); !made)
        return made.error();
    std::string temp = (root_ / "tmp" / "put-XXXXXX").string();
    if (!::mkdtemp(temp.data())) return artifact::errno_error("create a directory like", temp);
    const Status copied = artifact::copy_sealed(*source, dir, temp);
    Result<std::string> stored = copied ? move_into_store(root_, temp, *source, dir) : Result<std::string>(copied.error());
    if (!stored) (void)remove_read_only_tree(temp);
    return stored;
}

Status ArtifactStore::verify(const std::string& digest) const {
    if (!is_digest(digest)) return not_a_digest(digest);
    const fs::path dir = path_of(digest);
    if (!contains(digest))
        return make_error(ErrorCode::io,
                          fmt::format("artifact {} is not in the store ({} does not exist): refusing to start",
                                      short_digest(digest), dir.string()));
    const std::string modified =
        fmt::format("artifact {} of {} was modified after it was stored (", short_digest(digest), dir.string());
    auto now = artifact::manifest_of_tree(dir);
    if (!now) return make_error(ErrorCode::io, fmt::format("{}{}): refusing to start", modified, now.error().message));
    const std::string now_digest = artifact::manifest_digest(*now);
    if (now_digest == digest) {
        // Stored before links out of an artifact were refused: what it runs is not covered.
        std::vector<std::string> tops;
        for (const auto& [path, entry] : *now)
            if (path.find('/') == std::string::npos) tops.push_back(path);
        if (Status inside = artifact::check_links_stay_inside(dir, *now, tops); !inside)
            return make_error(ErrorCode::io, fmt::format("artifact {} of {}: {}: refusing to start",
                                                         short_digest(digest), dir.string(), inside.error().message));
        return Ok{};
    }
    std::ifstream in(root_ / "manifests" / hex_of(digest), std::ios::binary);
    const std::string stored{std::istreambuf_iterator<char>(in), {}};
    const bool trusted = "sha256:" + sha256_hex(stored) == digest;
    const std::string difference = trusted ? artifact::first_difference(stored, *now)
                                           : "its content now hashes to " + short_digest(now_digest);
    return make_error(ErrorCode::io, fmt::format("{}{}): refusing to start", modified, difference));
}

Status ArtifactStore::link_outputs(const std::string& digest, const fs::path& dir,
                                   const std::vector<std::string>& outputs) const {
    if (!is_digest(digest)) return not_a_digest(digest);
    if (!contains(digest))
        return make_error(ErrorCode::io, fmt::format("artifact {} is not in the store ({} does not exist)",
                                                     short_digest(digest), path_of(digest).string()));
    std::error_code ec;
    const fs::path stored = fs::absolute(path_of(digest), ec);
    for (const auto& output : outputs) {
        auto relative = artifact::output_path(output, dir);
        if (!relative) return relative.error();
        const fs::path target = stored / *relative;
        if (!fs::exists(fs::symlink_status(target, ec)))
            return make_error(ErrorCode::io, fmt::format("artifact {} has no output '{}' ({} does not exist)",
                                                         short_digest(digest), output, target.string()));
        const fs::path link = dir / *relative;
        if (Status made = make_directories({link.parent_path()}); !made) return made;
        if (Status linked = artifact::replace_with_symlink(link, target); !linked) return linked;
    }
    return Ok{};
}

std::optional<std::string> ArtifactStore::lookup(const std::string& key) const {
    std::ifstream in(root_ / "keys" / sha256_hex(key));
    std::string digest;
    if (!(in >> digest) || !contains(digest)) return std::nullopt;
    return digest;
}

Status ArtifactStore::remember(const std::string& key, const std::string& digest) {
    if (!is_digest(digest)) return not_a_digest(digest);
    return replace_file_durably(root_ / "keys" / sha256_hex(key), digest + "\n");
}

namespace {

// The entries of `dir` (none if it does not exist).
Result<std::vector<fs::path>> entries_of(const fs::path& dir) {
    std::vector<fs::path> entries;
    std::error_code ec;
    if (!fs::exists(dir, ec)) return entries;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(it->path());
    if (ec) return make_error(ErrorCode::io, fmt::format("cannot list {}: {}", dir.string(), ec.message()));
    return entries;
}

}  // namespace

Status ArtifactStore::retain_only(const std::set<std::string>& keep) {
    auto artifacts = entries_of(root_ / "sha256");
    if (!artifacts) return artifacts.error();
    for (const auto& artifact : *artifacts) {
        const std::string name = artifact.filename().string();
        if (keep.contains(std::string(kPrefix) + name)) continue;
        if (Status removed = remove_read_only_tree(artifact); !removed) return removed;
        std::error_code ignored;
        fs::remove(root_ / "manifests" / name, ignored);
    }
    auto keys = entries_of(root_ / "keys");
    if (!keys) return keys.error();
    for (const auto& key : *keys) {
        if (key.filename().string().find(".tmp.") != std::string::npos) continue;  // a remember() under way
        std::ifstream in(key);
        std::string digest;
        if ((in >> digest) && contains(digest)) continue;
        std::error_code ec;
        fs::remove(key, ec);
        if (ec) return make_error(ErrorCode::io, fmt::format("cannot remove {}: {}", key.string(), ec.message()));
    }
    return Ok{};
}

}  // namespace tandem
