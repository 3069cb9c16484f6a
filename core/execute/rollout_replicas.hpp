// What the two rollout state machines share: the replicas a rollout knows about and where each
// one is in its life, and the event handling that does not depend on the strategy.
#pragma once

#include "execute/rollout.hpp"

#include <string>
#include <vector>

namespace tandem::execute {

enum class ReplicaPhase {
    starting,  // a new replica asked for, not ready yet
    routed,    // behind the proxy, serving
    stopping,  // retired or discarded, not reported stopped yet (still alive)
    gone,      // stopped or crashed
};

struct RolloutReplica {
    int id = 0;
    bool is_new = false;  // of the release being rolled out
    ReplicaPhase phase = ReplicaPhase::routed;
};

class RolloutReplicas {
public:
    explicit RolloutReplicas(const std::vector<int>& old_ids);

    void add_new(int id);
    RolloutReplica* find(int id);
    int count(bool is_new, ReplicaPhase phase) const;
    int new_started() const;  // new replicas asked for so far, whatever became of them
    int alive() const;        // old and new, not gone: starting, routed and stopping ones
    int routed() const;       // ready and behind the proxy, old and new
    int old_alive() const;
    // The first replica (in the order they were given or started) in that phase, or nullptr.
    RolloutReplica* first(bool is_new, ReplicaPhase phase);

private:
    std::vector<RolloutReplica> replicas_;
};

// The strategy-independent half of a rollout: routes new replicas once ready, treats a crashed
// old replica as gone, fails on a failed new replica (discarding the ones still starting), and
// calls advance() after every event. Events for unknown or finished replicas, and every event
// after the rollout has finished, are ignored.
class ReplicaRollout : public Rollout {
public:
    ReplicaRollout(std::vector<int> old_replicas, int replicas, ReplicaControl& control);

    void begin() override;
    void replica_ready(int id) override;
    void replica_failed(int id, const std::string& reason) override;
    void replica_stopped(int id) override;
    RolloutState state() const override { return state_; }
    const std::string& error() const override { return error_; }

protected:
    // Issues whatever commands the strategy allows now; called until it returns false.
    virtual bool step() = 0;
    // Done when `target_` new replicas are routed and no old replica is left.
    bool done() const;

    void retire(RolloutReplica& replica);
    void start_new();

    RolloutReplicas replicas_;
    int target_;
    ReplicaControl& control_;

private:
    void advance();
    void fail(RolloutReplica& replica, const std::string& reason);

    RolloutState state_ = RolloutState::running;
    std::string error_;
    bool begun_ = false;
    bool advancing_ = false;  // a control may report an event from inside a command
    bool advance_again_ = false;
};

std::unique_ptr<Rollout> make_recreate_rollout(std::vector<int> old_replicas, int replicas,
                                               ReplicaControl& control);
std::unique_ptr<Rollout> make_rolling_rollout(const RolloutParams& params, std::vector<int> old_replicas,
                                              int replicas, ReplicaControl& control);

}  // namespace tandem::execute
