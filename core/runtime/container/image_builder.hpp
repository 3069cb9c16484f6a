// The images of container services, made ahead of a deploy (the release loop's second Builder,
// beside the file-tree one): a service with an image `build:` is built by the daemon from the
// commit's files, keyed by the digest of its context archive and build settings, and tagged
// "<project>-<service>:<12 hex of the key>", so that the same files give the same image and a
// later deploy of them reuses it; a service with `image:` has its reference resolved to the
// image ID it names now. Either way the artifact's digest is an image ID ("sha256:…"), which
// the plan, the audit record and the history carry and the runtime runs.
#pragma once

#include "runtime/container/container_names.hpp"

#include <tandem/builder.hpp>
#include <tandem/docker_runtime.hpp>
#include <tandem/runtime.hpp>

#include <functional>

namespace tandem::container {

class ImageBuilder final : public Builder {
public:
    using EventHandler = std::function<void(const RuntimeEvent&)>;
    ImageBuilder(const DockerRuntimeOptions& options, EventHandler on_event);

    // Blocking, one service after the other (the daemon builds a Dockerfile's stages in parallel).
    Result<std::vector<BuiltArtifact>> build(const Spec& spec, const PolicySet& policy, const BuildSource& source,
                                             const std::vector<std::string>& services) override;

private:
    Result<BuiltArtifact> build_image(const ServiceSpec& service, const BuildSource& source);
    Result<BuiltArtifact> resolve_image(const ServiceSpec& service);
    void report(const std::string& service, const std::string& text, RuntimeEventKind kind = RuntimeEventKind::state,
                bool is_stderr = false) const;

    DockerRuntimeOptions options_;
    Names names_;
    EventHandler on_event_;
};

}  // namespace tandem::container
