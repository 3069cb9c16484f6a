// make_swarm_image_builder (tandem/swarm_runtime.hpp): images built or resolved on the manager's
// daemon, then pushed to the registry every node pulls from; the artifact's digest is the one the
// registry stored the image under, its location "<registry>/<project>-<service>@<digest>".
#include "runtime/container/blocking_docker.hpp"
#include "runtime/container/container_names.hpp"
#include "runtime/container/image_builder.hpp"

#include <tandem/swarm_runtime.hpp>

#include <fmt/format.h>

namespace tandem {

namespace {

DockerRuntimeOptions docker_options(const SwarmRuntimeOptions& options) {
    DockerRuntimeOptions docker;
    docker.socket_path = options.socket_path;
    docker.project = options.project;
    docker.state_dir = options.state_dir;
    docker.labels = options.labels;
    return docker;
}

class RegistryImageBuilder final : public Builder {
public:
    RegistryImageBuilder(const SwarmRuntimeOptions& options, std::function<void(const RuntimeEvent&)> on_event)
        : options_(options), local_(docker_options(options), on_event), on_event_(std::move(on_event)) {}

    Result<std::vector<BuiltArtifact>> build(const Spec& spec, const PolicySet& policy, const BuildSource& source,
                                             const std::vector<std::string>& services) override {
        if (options_.registry.empty())
            return make_error(ErrorCode::usage, "the swarm runtime needs a registry every node pulls from (--registry HOST:PORT)");
        auto built = local_.build(spec, policy, source, services);
        if (!built) return built.error();
        const std::string project = spec.project.empty() ? options_.project : spec.project;
        for (BuiltArtifact& artifact : *built) {
            auto pushed = push(project, artifact);
            if (!pushed) return pushed.error();
            // What runs and is recorded: the registry's digest of the image, which every node
            // pulls by (the swarm runtime names the repository).
            artifact.artifact.digest = pushed->substr(pushed->rfind('@') + 1);
            artifact.artifact.location = *pushed;
        }
        return built;
    }

private:
    // Tags the image "<registry>/<project>-<service>:<12 hex of its ID>", pushes it, and gives
    // the reference by the digest the registry stored.
    Result<std::string> push(const std::string& project, const BuiltArtifact& built) {
        const std::string& image = built.artifact.digest;
        const std::string repository =
            fmt::format("{}/{}-{}", options_.registry, container::docker_name_part(project),
                        container::docker_name_part(built.service));
        const std::string tag = image.substr(image.rfind(':') + 1, 12);
        container::BlockingDocker docker(options_.socket_path);
        auto context = fmt::format("for service '{}'", built.service);
        auto tagged = docker.call<Ok>([&](docker::DockerClient& c, auto done) {
            c.with_context(context).tag_image(image, repository, tag, done);
        });
        if (!tagged) return tagged.error();
        auto digest = docker.call<std::string>(
            [&](docker::DockerClient& c, auto done) {
                c.with_context(context).push_image(repository, tag, nullptr, done);
            },
            std::chrono::minutes(30));
        if (!digest)
            return make_error(ErrorCode::build_failed,
                              fmt::format("{} (is the registry {} reachable from the manager, and listed in its "
                                          "daemon's insecure-registries when it has no TLS?)",
                                          digest.error().message, options_.registry));
        const std::string reference = repository + "@" + *digest;
        if (on_event_)
            on_event_(RuntimeEvent{RuntimeEventKind::state, built.service, "pushed " + reference, 0, false,
                                   std::chrono::system_clock::now()});
        return reference;
    }

    SwarmRuntimeOptions options_;
    container::ImageBuilder local_;
    std::function<void(const RuntimeEvent&)> on_event_;
};

}  // namespace

std::unique_ptr<Builder> make_swarm_image_builder(const SwarmRuntimeOptions& options,
                                                  std::function<void(const RuntimeEvent&)> on_event) {
    return std::make_unique<RegistryImageBuilder>(options, std::move(on_event));
}

}  // namespace tandem
