// The recreate rollout: retire every old replica at once, then start and route the new ones.
#include "execute/rollout_replicas.hpp"

namespace tandem::execute {
namespace {

class RecreateRollout final : public ReplicaRollout {
public:
    using ReplicaRollout::ReplicaRollout;

protected:
    bool step() override {
        if (RolloutReplica* old = replicas_.first(false, ReplicaPhase::routed)) {
            retire(*old);
            return true;
        }
        // Nothing new starts until every old replica has stopped: no two releases side by side.
        if (replicas_.old_alive() > 0) return false;
        if (replicas_.new_started() < target_) {
            start_new();
            return true;
        }
        return false;
    }
};

}  // namespace

std::unique_ptr<Rollout> make_recreate_rollout(std::vector<int> old_replicas, int replicas,
                                               ReplicaControl& control) {
    return std::make_unique<RecreateRollout>(std::move(old_replicas), replicas, control);
}

}  // namespace tandem::execute
