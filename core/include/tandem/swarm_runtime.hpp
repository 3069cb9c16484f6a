// The swarm runtime: container services handed to a Docker Swarm cluster through a manager's
// Engine API, so that the cluster's own rolling update, restart policy and rollback carry each
// release out across its nodes. Process services still run on this machine (the process
// runtime, on the same loop). docs/swarm.md describes it for users.
//
// Images reach the nodes through a registry: the builder of make_swarm_image_builder() builds on
// the manager's daemon, pushes "<registry>/<project>-<service>:<key>" and records the reference by
// digest, which is what the swarm service runs.
#pragma once

#include <tandem/builder.hpp>
#include <tandem/process_runtime.hpp>
#include <tandem/runtime.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace tandem {

struct SwarmRuntimeOptions {
    // A manager's socket; empty: $DOCKER_HOST (unix://PATH) or /var/run/docker.sock.
    std::string socket_path;
    // "host:port" of the registry every node pulls from (required: an image built here exists
    // on no other node until it is pushed there).
    std::string registry;
    // Names what it makes: services "<project>-<service>", the overlay network "<project>-net",
    // volumes "<project>_<volume>" on each node, secrets "<project>-<file>-<12 hex of content>".
    std::string project;
    // Identifies this engine's services among the cluster's (label tandem.engine).
    std::filesystem::path state_dir;
    // How often the cluster's tasks and nodes are read while a service is watched.
    Duration poll{300};
    // Added to every label set it writes.
    std::map<std::string, std::string> labels;
};

// The process runtime and the swarm runtime on one loop: process services here, container
// services on the cluster. The manager is asked at open(): one that does not answer, or is not a
// swarm manager, is an error naming the socket.
Result<std::unique_ptr<Runtime>> make_swarm_runtime(const ProcessRuntimeOptions& process,
                                                    const SwarmRuntimeOptions& swarm);

// Images for a swarm: each built (or resolved, for `image:`) on the manager's daemon as
// make_image_builder() does, then pushed to the registry as "<registry>/<project>-<service>"; the
// artifact's digest is the digest the registry stored it under (what the swarm runtime runs, by
// that repository, and what history records), its location the whole reference.
std::unique_ptr<Builder> make_swarm_image_builder(const SwarmRuntimeOptions& options,
                                                  std::function<void(const RuntimeEvent&)> on_event);

}  // namespace tandem
