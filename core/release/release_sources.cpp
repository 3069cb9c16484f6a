// Digests of the files services without a build run from (see release_sources.hpp).
#include "release/release_sources.hpp"

#include <tandem/artifact_store.hpp>

#include <algorithm>
#include <cstdlib>

namespace tandem::release {

namespace fs = std::filesystem;

namespace {

// The committed files (and symlinks) below `workdir` of `snapshot`, relative to `snapshot`.
std::vector<std::string> committed_files(const fs::path& snapshot, const std::string& workdir) {
    std::vector<std::string> files;
    std::error_code ec;
    const fs::path top = (snapshot / workdir).lexically_normal();
    if (!fs::is_directory(top, ec)) return files;
    for (auto it = fs::recursive_directory_iterator(top, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        if (it->is_symlink(ec) || it->is_regular_file(ec))
            files.push_back(it->path().lexically_relative(snapshot).generic_string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

// run's program as an absolute path: as written, or found in PATH; "" when neither.
fs::path program_of(const ServiceSpec& service) {
    const auto& argv = service.run.argv;
    if (argv.empty()) return {};
    const std::string& word = service.run.shell && argv.size() > 2 ? argv[2].substr(0, argv[2].find(' ')) : argv[0];
    if (!word.empty() && word[0] == '/') return word;
    if (word.find('/') != std::string::npos) return {};  // inside the workdir: among its files
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    for (std::size_t start = 0; start <= dirs.size();) {
        const std::size_t end = std::min(dirs.find(':', start), dirs.size());
        const fs::path candidate = fs::path(dirs.substr(start, end - start)) / word;
        std::error_code ec;
        if (!dirs.substr(start, end - start).empty() && fs::is_regular_file(candidate, ec)) return candidate;
        start = end + 1;
    }
    return {};
}

}  // namespace

Result<std::string> source_digest(const fs::path& snapshot, const fs::path& release_root, const ServiceSpec& service) {
    const auto files = committed_files(snapshot, service.workdir);
    if (!files.empty()) return artifact_digest(release_root, files);
    const fs::path program = program_of(service);
    if (program.empty()) return std::string{};
    return artifact_digest("/", {program.lexically_relative("/").generic_string()});
}

Status verify_sources(const fs::path& snapshot, const fs::path& release_root, const ServiceSpec& service,
                      const std::string& digest) {
    auto now = source_digest(snapshot, release_root, service);
    if (!now) return now.error();
    if (*now == digest) return Ok{};
    return make_error(ErrorCode::io, "the files of '" + service.name + "' in " +
                                         (release_root / service.workdir).lexically_normal().string() +
                                         " were modified since the release was made (" + digest + ", now " +
                                         (now->empty() ? std::string("missing") : *now) +
                                         "): not started; redeploy the commit or roll back");
}

Status attach_source_digests(Plan& plan, const Spec& spec, const fs::path& snapshot, const fs::path& release_root,
                             std::map<std::string, std::string>& digests) {
    for (auto& wave : plan.waves)
        for (auto& step : wave.steps)
            for (auto& action : step.actions) {
                if (action.kind != ActionKind::start && action.kind != ActionKind::replace) continue;
                const ServiceSpec* service = spec.find(action.service);
                if (!service) continue;
                if (auto known = digests.find(action.service); known != digests.end()) {
                    action.artifact_digest = known->second;
                    continue;
                }
                // Built, and not stored (mutable artifacts): the build writes into the release
                // directory, and there is no stored artifact to name or check. A container runs
                // an image, not the release's files.
                if (service->build || service->container) continue;
                auto digest = source_digest(snapshot, release_root, *service);
                if (!digest) return digest.error();
                if (digest->empty()) continue;
                digests[action.service] = *digest;
                action.artifact_digest = *digest;
            }
    return Ok{};
}

std::function<Status(const std::string&, const std::string&)> start_check(const ArtifactStore& store, const Spec& spec,
                                                                          const fs::path& snapshot,
                                                                          const fs::path& release_root) {
    return [&store, spec, snapshot, release_root](const std::string& name, const std::string& digest) -> Status {
        const ServiceSpec* service = spec.find(name);
        // An image ID: the daemon refuses to create a container of an image it does not have.
        if (service && service->container) return Ok{};
        if (!service || service->build) return store.verify(digest);
        return verify_sources(snapshot, release_root, *service, digest);
    };
}

}  // namespace tandem::release
