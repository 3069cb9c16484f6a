// What one replica's container is made of: the service's image, entrypoint and command, env with
// ${port} and PORT its listening port, user, working dir, labels (the service's and the engine's),
// the project network with its aliases, extra hosts, published ports and mounts.
#include "runtime/container/docker_runtime.hpp"

namespace tandem::container {

docker::ContainerSpec DockerRuntime::container_spec(const ReplicaLaunch& launch, const std::string& image,
                                                    const std::string& name) {
    const ServiceSpec& service = launch.service;
    const ContainerSpec& container = *service.container;
    const int listen = service.listen_port();
    docker::ContainerSpec spec;
    spec.name = name;
    spec.image = image;
    for (const auto& arg : container.command) spec.cmd.push_back(expand_hosts(process::with_port(arg, listen)));
    if (container.entrypoint) {
        for (const auto& arg : *container.entrypoint) spec.entrypoint.push_back(expand_hosts(process::with_port(arg, listen)));
        spec.clear_entrypoint = container.entrypoint->empty();
    }
    for (const auto& [key, value] : launch.env) spec.env[key] = expand_hosts(process::with_port(value, listen));
    if (listen != 0 && !spec.env.count("PORT")) spec.env["PORT"] = std::to_string(listen);
    spec.user = launch.user.empty() ? service.user : launch.user;
    spec.working_dir = container.working_dir;
    for (const auto& [key, value] : container.labels) spec.labels[key] = value;
    for (const auto& [key, value] : names_.labels(service.name, std::to_string(launch.id))) spec.labels[key] = value;
    if (service.port != 0) spec.port = listen;
    for (const auto& [published, listened] : container.extra_ports) spec.more_ports.push_back(listened);
    spec.network = names_.network();
    spec.aliases = {service.name};
    spec.aliases.insert(spec.aliases.end(), container.aliases.begin(), container.aliases.end());
    spec.extra_hosts = container.extra_hosts;
    for (const VolumeSpec& volume : container.volumes) spec.volumes.push_back(mount_of(volume, launch.cwd));
    return spec;
}

docker::VolumeMount DockerRuntime::mount_of(const VolumeSpec& volume, const std::filesystem::path& cwd) {
    docker::VolumeMount mount;
    mount.read_only = volume.read_only;
    mount.target = volume.target;
    if (volume.kind == VolumeSpec::Kind::named) {
        mount.volume = names_.volume(volume.source);
    } else if (volume.kind == VolumeSpec::Kind::tmpfs) {
        mount.tmpfs = true;
    } else {
        mount.bind = true;
        mount.volume = (cwd / volume.source).lexically_normal().string();
    }
    return mount;
}

}  // namespace tandem::container
