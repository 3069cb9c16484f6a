// Rollouts of a service's replicas, as state machines in the manner of gitops-engine's sync:
// events go in (a replica became ready, failed its gate, stopped, drained), commands come out
// through ReplicaControl, state() reports. No I/O and no clock of their own, so tests drive
// them step by step with a fake control.
#pragma once

#include <tandem/plan.hpp>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace tandem::execute {

// What a rollout asks of the world. Every request completes later through one of the
// rollout's event methods, with the replica id given here.
class ReplicaControl {
public:
    virtual ~ReplicaControl() = default;
    // Start a new replica of the new release; report replica_ready or replica_failed.
    virtual int start_replica() = 0;
    // Put a ready replica behind the proxy (new connections may reach it).
    virtual void route(int id) = 0;
    // Take a replica out of the proxy, drain it up to the drain timeout, then stop it;
    // report replica_stopped.
    virtual void retire(int id) = 0;
    // Stop a replica that never took traffic (a failed or surplus new one); report replica_stopped.
    virtual void discard(int id) = 0;
};

enum class RolloutState { running, succeeded, failed };
const char* to_string(RolloutState state);

class Rollout {
public:
    virtual ~Rollout() = default;
    virtual void begin() = 0;
    virtual void replica_ready(int id) = 0;
    virtual void replica_failed(int id, const std::string& reason) = 0;  // gate failed or crashed
    virtual void replica_stopped(int id) = 0;
    virtual RolloutState state() const = 0;
    virtual const std::string& error() const = 0;  // why it failed
};

// recreate: retire every old replica, then start `replicas` new ones; it fails if a new one
// fails (the old ones are gone by then: WIP's fastest path, not a safe one).
// rolling: start up to max_surge new replicas beyond `replicas`, route each once ready, retire
// an old one per ready new one, never dropping below replicas - max_unavailable ready
// replicas; a new replica that fails its gate is discarded and the rollout fails, leaving the
// remaining old replicas serving.
std::unique_ptr<Rollout> make_rollout(const RolloutParams& params, std::vector<int> old_replicas, int replicas,
                                      ReplicaControl& control);

}  // namespace tandem::execute
