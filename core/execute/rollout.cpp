// Rollout bookkeeping and event handling shared by both strategies, and make_rollout.
#include "execute/rollout_replicas.hpp"

#include <algorithm>

namespace tandem::execute {

const char* to_string(RolloutState state) {
    switch (state) {
        case RolloutState::running: return "running";
        case RolloutState::succeeded: return "succeeded";
        case RolloutState::failed: return "failed";
    }
    return "unknown";
}

RolloutReplicas::RolloutReplicas(const std::vector<int>& old_ids) {
    for (int id : old_ids) {
        if (find(id) == nullptr) replicas_.push_back({id, false, ReplicaPhase::routed});
    }
}

void RolloutReplicas::add_new(int id) {
    if (find(id) == nullptr) replicas_.push_back({id, true, ReplicaPhase::starting});
}

RolloutReplica* RolloutReplicas::find(int id) {
    auto it = std::find_if(replicas_.begin(), replicas_.end(), [id](const auto& r) { return r.id == id; });
    return it == replicas_.end() ? nullptr : &*it;
}

int RolloutReplicas::count(bool is_new, ReplicaPhase phase) const {
    return static_cast<int>(std::count_if(replicas_.begin(), replicas_.end(), [&](const auto& r) {
        return r.is_new == is_new && r.phase == phase;
    }));
}

int RolloutReplicas::new_started() const {
    return static_cast<int>(std::count_if(replicas_.begin(), replicas_.end(), [](const auto& r) { return r.is_new; }));
}

int RolloutReplicas::alive() const {
    return static_cast<int>(std::count_if(replicas_.begin(), replicas_.end(),
                                          [](const auto& r) { return r.phase != ReplicaPhase::gone; }));
}

int RolloutReplicas::routed() const {
    return count(false, ReplicaPhase::routed) + count(true, ReplicaPhase::routed);
}

int RolloutReplicas::old_alive() const {
    return static_cast<int>(std::count_if(replicas_.begin(), replicas_.end(), [](const auto& r) {
        return !r.is_new && r.phase != ReplicaPhase::gone;
    }));
}

RolloutReplica* RolloutReplicas::first(bool is_new, ReplicaPhase phase) {
    auto it = std::find_if(replicas_.begin(), replicas_.end(),
                           [&](const auto& r) { return r.is_new == is_new && r.phase == phase; });
    return it == replicas_.end() ? nullptr : &*it;
}

ReplicaRollout::ReplicaRollout(std::vector<int> old_replicas, int replicas, ReplicaControl& control)
    : replicas_(old_replicas), target_(std::max(replicas, 0)), control_(control) {}

void ReplicaRollout::begin() {
    if (begun_) return;
    begun_ = true;
    advance();
}

void ReplicaRollout::replica_ready(int id) {
    if (state_ != RolloutState::running) return;
    RolloutReplica* replica = replicas_.find(id);
    if (replica == nullptr || !replica->is_new || replica->phase != ReplicaPhase::starting) return;
    replica->phase = ReplicaPhase::routed;
    control_.route(id);
    advance();
}

void ReplicaRollout::replica_failed(int id, const std::string& reason) {
    if (state_ != RolloutState::running) return;
    RolloutReplica* replica = replicas_.find(id);
    if (replica == nullptr || replica->phase == ReplicaPhase::gone) return;
    // A crash of a replica on its way out, or of an old one, only means it is gone sooner.
    if (replica->phase == ReplicaPhase::stopping || !replica->is_new) {
        replica->phase = ReplicaPhase::gone;
        advance();
        return;
    }
    fail(*replica, reason);
}

void ReplicaRollout::replica_stopped(int id) {
    if (state_ != RolloutState::running) return;
    RolloutReplica* replica = replicas_.find(id);
    if (replica == nullptr || replica->phase == ReplicaPhase::gone) return;
    if (replica->phase != ReplicaPhase::stopping) {
        // Nobody asked it to stop: it exited on its own.
        replica_failed(id, "exited unexpectedly");
        return;
    }
    replica->phase = ReplicaPhase::gone;
    advance();
}

bool ReplicaRollout::done() const {
    return replicas_.count(true, ReplicaPhase::routed) == target_ && replicas_.old_alive() == 0;
}

void ReplicaRollout::retire(RolloutReplica& replica) {
    replica.phase = ReplicaPhase::stopping;
    control_.retire(replica.id);
}

void ReplicaRollout::start_new() {
    replicas_.add_new(control_.start_replica());
}

void ReplicaRollout::advance() {
    if (!begun_ || state_ != RolloutState::running) return;
    if (advancing_) {
        advance_again_ = true;
        return;
    }
    advancing_ = true;
    do {
        advance_again_ = false;
        while (state_ == RolloutState::running && step()) {
        }
    } while (advance_again_);
    advancing_ = false;
    if (state_ == RolloutState::running && done()) state_ = RolloutState::succeeded;
}

void ReplicaRollout::fail(RolloutReplica& replica, const std::string& reason) {
    state_ = RolloutState::failed;
    error_ = "new replica " + std::to_string(replica.id) + " failed: " + reason;
    const bool took_traffic = replica.phase == ReplicaPhase::routed;
    replica.phase = ReplicaPhase::stopping;
    if (took_traffic) {
        control_.retire(replica.id);
    } else {
        control_.discard(replica.id);
    }
    // New replicas still starting would never be routed now: stop them too. Routed ones, old
    // and new, keep serving.
    while (RolloutReplica* starting = replicas_.first(true, ReplicaPhase::starting)) {
        starting->phase = ReplicaPhase::stopping;
        control_.discard(starting->id);
    }
}

std::unique_ptr<Rollout> make_rollout(const RolloutParams& params, std::vector<int> old_replicas, int replicas,
                                      ReplicaControl& control) {
    if (params.strategy == RolloutStrategy::rolling) {
        return make_rolling_rollout(params, std::move(old_replicas), replicas, control);
    }
    return make_recreate_rollout(std::move(old_replicas), replicas, control);
}

}  // namespace tandem::execute
