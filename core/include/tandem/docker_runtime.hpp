// The Docker runtime: container services' replicas as containers of a local Docker daemon,
// reached through its Engine API on a unix socket (never the docker CLI). It shares the
// process runtime's event loop, so one project mixes both (tandem/per_service_runtime.hpp);
// make_local_runtime() gives that pair, the default runtime of both front-ends.
//
// What it makes carries labels (tandem.project, tandem.engine, tandem.service, tandem.replica):
// a new engine removes the containers a killed one left; stopping a service removes its
// containers; the engine's end removes the project network. Named volumes stay (a reset of the
// service empties them). docs/containers.md describes it for users.
#pragma once

#include <tandem/builder.hpp>
#include <tandem/process_runtime.hpp>
#include <tandem/runtime.hpp>
#include <tandem/spec.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace tandem {

struct DockerRuntimeOptions {
    // The daemon's socket; empty: $DOCKER_HOST (unix://PATH) or /var/run/docker.sock.
    std::string socket_path;
    // Names what it makes: containers "<project>-<service>-<replica>", volumes
    // "<project>_<volume>", the network "<project>". Empty: the state directory's parent's name.
    std::string project;
    // Identifies this engine's objects among the daemon's (label tandem.engine): the engine's state
    // directory, so that two checkouts of one project never touch each other's containers.
    std::filesystem::path state_dir;
    Duration leftover_grace{5000};  // stopping what a killed engine left
    // Added to every label set it writes (a test marks what it made this way).
    std::map<std::string, std::string> labels;
};

// The process runtime and the Docker runtime on one loop, each service on the one its kind
// asks for. The daemon is reached only when a container service needs it: a project of
// processes runs where no Docker is installed.
Result<std::unique_ptr<Runtime>> make_local_runtime(const ProcessRuntimeOptions& process,
                                                    const DockerRuntimeOptions& docker);

// The images of container services made ahead of a deploy, as shipper does under
// artifacts.immutable: an image `build:` built by the daemon from the commit's files and tagged
// "<project>-<service>:<12 hex of its key>" (the key: the digest of the context archive, the
// Dockerfile's name, the target and the build args), reused when that tag exists; an `image:`
// reference resolved to the image ID it names now (never pulled). The artifact's digest is the
// image ID. Blocking; each service's progress and outcome reach `on_event`.
std::unique_ptr<Builder> make_image_builder(const DockerRuntimeOptions& options,
                                            std::function<void(const RuntimeEvent&)> on_event);

// When `spec` has a container service: whether the daemon answers (within a few seconds), as an
// error that names the first container service, its `image:`/`build:` and the socket. Ok for a
// spec of processes only, without asking the daemon.
Status check_docker_reachable(const Spec& spec, const std::string& socket_path = {});

}  // namespace tandem
