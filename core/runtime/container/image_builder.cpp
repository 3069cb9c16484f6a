// ImageBuilder (image_builder.hpp): images built or resolved ahead of a deploy.
#include "runtime/container/image_builder.hpp"

#include "runtime/container/blocking_docker.hpp"
#include "runtime/docker/build_context.hpp"
#include "support/sha256.hpp"

#include <fmt/format.h>

namespace tandem::container {

ImageBuilder::ImageBuilder(const DockerRuntimeOptions& options, EventHandler on_event)
    : options_(options), names_(options.project, options.state_dir, options.labels), on_event_(std::move(on_event)) {}

void ImageBuilder::report(const std::string& service, const std::string& text, RuntimeEventKind kind,
                          bool is_stderr) const {
    if (on_event_) on_event_(RuntimeEvent{kind, service, text, 0, is_stderr, std::chrono::system_clock::now()});
}

Result<std::vector<BuiltArtifact>> ImageBuilder::build(const Spec& spec, const PolicySet& policy,
                                                       const BuildSource& source,
                                                       const std::vector<std::string>& services) {
    (void)policy;
    names_.set_project(spec.project);  // `project:` names the images, as the runtime names its containers
    std::vector<BuiltArtifact> out;
    for (const std::string& name : services) {
        const ServiceSpec* service = spec.find(name);
        if (!service || !service->container)
            return make_error(ErrorCode::unknown_service,
                              fmt::format("service '{}' runs no container: it has no image to build", name));
        auto made = service->container->build ? build_image(*service, source) : resolve_image(*service);
        if (!made) return made.error();
        out.push_back(std::move(*made));
    }
    return out;
}

Result<BuiltArtifact> ImageBuilder::build_image(const ServiceSpec& service, const BuildSource& source) {
    const ImageBuildSpec& spec = *service.container->build;
    const auto context = (source.project_root() / spec.context).lexically_normal();
    auto tar = docker::make_build_context(context, spec.dockerfile);
    if (!tar)
        return make_error(ErrorCode::build_failed,
                          fmt::format("docker: build image for service '{}': {}", service.name, tar.error().message));
    BuiltArtifact built;
    built.service = service.name;
    built.key.inputs = "sha256:" + sha256_hex(*tar);
    built.key.text = fmt::format("context {}\ndockerfile {}\ntarget {}\n", built.key.inputs, spec.dockerfile, spec.target);
    for (const auto& [key, value] : spec.args) built.key.text += fmt::format("arg {}={}\n", key, value);
    built.key.digest = "sha256:" + sha256_hex(built.key.text);
    const std::string tag = fmt::format("{}-{}:{}", names_.project(), docker_name_part(service.name),
                                        built.key.digest.substr(7, 12));
    BlockingDocker docker(options_.socket_path);
    auto negotiated = docker.call<docker::DaemonVersion>([](docker::DockerClient& c, auto done) { c.negotiate(done); },
                                                         std::chrono::seconds(10));
    if (!negotiated) return negotiated.error();
    auto existing =
        docker.call<docker::ImageInfo>([&](docker::DockerClient& c, auto done) { c.inspect_image(tag, done); });
    if (existing) {
        built.artifact = ArtifactRef{ArtifactKind::image, existing->id, tag};
        built.outcome = BuildOutcome::reused;
        report(service.name, fmt::format("reused image {} ({}), built before from the same files", tag,
                                         existing->id.substr(0, 19)));
        return built;
    }
    docker::BuildOptions options;
    options.tags = {tag};
    options.dockerfile = spec.dockerfile;
    options.target = spec.target;
    for (const auto& [key, value] : spec.args) options.args[key] = value;
    options.labels = names_.engine_labels();
    options.labels[service_label] = service.name;
    options.labels["tandem.build_key"] = built.key.digest;
    auto id = docker.call<std::string>(
        [&](docker::DockerClient& c, auto done) {
            c.with_context(fmt::format("for service '{}'", service.name))
                .build_tar(std::move(*tar), options,
                           [this, &service](std::string_view line) {
                               report(service.name, std::string(line), RuntimeEventKind::log);
                           },
                           done);
        },
        std::chrono::hours(1));
    if (!id) return make_error(ErrorCode::build_failed, id.error().message);
    built.artifact = ArtifactRef{ArtifactKind::image, *id, tag};
    built.outcome = BuildOutcome::built;
    report(service.name, fmt::format("built image {} ({}) from {}", tag, id->substr(0, 19), source.label));
    return built;
}

Result<BuiltArtifact> ImageBuilder::resolve_image(const ServiceSpec& service) {
    const std::string& reference = service.container->image;
    BlockingDocker docker(options_.socket_path);
    auto image = docker.call<docker::ImageInfo>([&](docker::DockerClient& c, auto done) {
        c.with_context(fmt::format("for service '{}'", service.name)).inspect_image(reference, done);
    });
    if (!image && image.error().code == ErrorCode::not_found)
        return make_error(ErrorCode::not_found,
                          fmt::format("{} (tandem does not pull images: `docker pull {}` or build it first)",
                                      image.error().message, reference),
                          service.container->location);
    if (!image) return image.error();
    BuiltArtifact built;
    built.service = service.name;
    built.artifact = ArtifactRef{ArtifactKind::image, image->id, reference};
    built.key.text = fmt::format("image {}\n", reference);
    built.key.digest = image->id;
    built.outcome = BuildOutcome::reused;
    report(service.name, fmt::format("pinned image {} to {}", reference, image->id.substr(0, 19)));
    return built;
}

}  // namespace tandem::container
