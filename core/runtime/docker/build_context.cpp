// Walks the context directory in name order and writes what .dockerignore keeps into a tar.
#include "runtime/docker/build_context.hpp"

#include "runtime/docker/docker_ignore.hpp"
#include "runtime/docker/tar_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace tandem::docker {
namespace {

namespace fs = std::filesystem;

struct ContextWalk {
    const fs::path& root;
    const DockerIgnore& ignore;
    TarWriter& tar;

    Status walk(const fs::path& dir, const std::string& relative) {
        std::error_code ec;
        std::vector<fs::path> entries;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(it->path());
        if (ec) return make_error(ErrorCode::io, fmt::format("{}: {}", dir.string(), ec.message()));
        std::sort(entries.begin(), entries.end());
        for (const fs::path& entry : entries) {
            const std::string name = relative.empty() ? entry.filename().string()
                                                      : relative + "/" + entry.filename().string();
            const bool excluded = ignore.excludes(name);
            const bool is_dir = fs::is_directory(fs::symlink_status(entry, ec));
            if (excluded && !(is_dir && ignore.has_exceptions())) continue;
            if (!excluded) {
                if (auto added = tar.add_path(entry, name); !added) return added;
            }
            if (is_dir) {
                if (auto below = walk(entry, name); !below) return below;
            }
        }
        return Ok{};
    }
};

}  // namespace

Result<std::string> make_build_context(const fs::path& dir, const std::string& dockerfile) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        return make_error(ErrorCode::io, fmt::format("build context {}: not a directory", dir.string()));
    }
    if (!fs::is_regular_file(dir / dockerfile, ec)) {
        return make_error(ErrorCode::io, fmt::format("build context {}: no Dockerfile '{}' in it", dir.string(),
                                                     dockerfile));
    }
    auto ignore = DockerIgnore::load(dir);
    if (!ignore) return ignore.error();
    ignore->keep(clean_path(dockerfile));
    ignore->keep(".dockerignore");
    TarWriter tar;
    ContextWalk walk{dir, *ignore, tar};
    if (auto walked = walk.walk(dir, ""); !walked) return walked.error();
    return tar.finish();
}

}  // namespace tandem::docker
