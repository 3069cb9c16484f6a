// The Builder of file trees: a service's build runs its command in a scratch copy of the source
// tree (through the runtime, as a plan of build actions), and its declared outputs go into the
// artifact store, named by their digest and remembered under the build's key, so that the next
// build with the same key reuses them instead of running.
#pragma once

#include <tandem/artifact_store.hpp>
#include <tandem/builder.hpp>
#include <tandem/executor.hpp>

#include <filesystem>
#include <functional>

namespace tandem {

class FileTreeBuilder final : public Builder {
public:
    using EventHandler = std::function<void(const RuntimeEvent&)>;

    // Builds run on `runtime`, each call's in `scratch_root/<the source tree's name>` (made
    // afresh, removed afterwards); artifacts and keys go to `store`; `on_event` hears which
    // artifacts were reused and which built (the builds' own lines come from the runtime).
    FileTreeBuilder(Executor& runtime, ArtifactStore& store, std::filesystem::path scratch_root,
                    EventHandler on_event);

    Result<std::vector<BuiltArtifact>> build(const Spec& spec, const PolicySet& policy, const BuildSource& source,
                                             const std::vector<std::string>& services) override;

private:
    // Runs the build commands of `services` in `scratch` and stores their outputs.
    Status build_in(const std::filesystem::path& scratch, const Spec& spec, const PolicySet& policy,
                    const BuildSource& source, std::vector<BuiltArtifact*>& missing);
    // The one place a build command runs: a plan of build actions applied on the runtime.
    Status run_commands(const std::filesystem::path& scratch, const Spec& spec, const PolicySet& policy,
                        const BuildSource& source, const std::vector<BuiltArtifact*>& missing);
    void report(const BuiltArtifact& built) const;

    Executor& runtime_;
    ArtifactStore& store_;
    std::filesystem::path scratch_root_;
    EventHandler on_event_;
};

}  // namespace tandem
