// The rolling rollout: new replicas replace old ones a few at a time, within max_surge extra
// replicas alive and max_unavailable fewer replicas serving.
#include "execute/rollout_replicas.hpp"

#include <algorithm>

namespace tandem::execute {
namespace {

class RollingRollout final : public ReplicaRollout {
public:
    RollingRollout(const RolloutParams& params, std::vector<int> old_replicas, int replicas,
                   ReplicaControl& control)
        : ReplicaRollout(std::move(old_replicas), replicas, control),
          max_surge_(std::max(params.max_surge, 0)),
          max_unavailable_(std::max(params.max_unavailable, 0)) {
        // Neither a surge nor a gap allowed would leave no way to make progress.
        if (max_surge_ == 0 && max_unavailable_ == 0) max_surge_ = 1;
    }

protected:
    bool step() override {
        // Retire first: it may make room to start a new one in the same pass.
        RolloutReplica* old = replicas_.first(false, ReplicaPhase::routed);
        if (old != nullptr && replicas_.routed() - 1 >= min_serving()) {
            retire(*old);
            return true;
        }
        // A retiring replica is still alive until it reports stopped: it counts against the surge.
        if (replicas_.alive() < target_ + max_surge_ && replicas_.new_started() < target_) {
            start_new();
            return true;
        }
        return false;
    }

private:
    int min_serving() const { return target_ - max_unavailable_; }

    int max_surge_;
    int max_unavailable_;
};

}  // namespace

std::unique_ptr<Rollout> make_rolling_rollout(const RolloutParams& params, std::vector<int> old_replicas,
                                              int replicas, ReplicaControl& control) {
    return std::make_unique<RollingRollout>(params, std::move(old_replicas), replicas, control);
}

}  // namespace tandem::execute
