// Both strategies driven to the end with events in many random orders, over a grid of replica
// counts, surges and unavailabilities: limits hold at every step and every rollout finishes.
#include "execute/rollout.hpp"

#include <doctest/doctest.h>

#include "rollout/fake_replica_control.hpp"

#include <algorithm>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace {

using tandem::RolloutParams;
using tandem::RolloutStrategy;
using tandem::execute::make_rollout;
using tandem::execute::Rollout;
using tandem::execute::RolloutState;
using tandem::test::FakeReplicaControl;

struct Case {
    RolloutStrategy strategy;
    int old_count, replicas, max_surge, max_unavailable;
    std::string name() const {
        return std::string(to_string(strategy)) + " old=" + std::to_string(old_count) + " R=" + std::to_string(replicas) +
               " S=" + std::to_string(max_surge) + " U=" + std::to_string(max_unavailable);
    }
};

// Reports one pending event (a start becoming ready, a stop completing) chosen at random.
bool report_one(FakeReplicaControl& control, Rollout& rollout, std::mt19937& random) {
    std::vector<std::pair<bool, int>> pending;  // (is a stop, id)
    for (int id : control.starting) pending.emplace_back(false, id);
    for (int id : control.stopping) pending.emplace_back(true, id);
    if (pending.empty()) return false;
    const auto [is_stop, id] = pending[std::uniform_int_distribution<std::size_t>(0, pending.size() - 1)(random)];
    if (is_stop) {
        control.stopped(rollout, id);
    } else {
        control.ready(rollout, id);
    }
    return true;
}

void run_to_end(const Case& c, unsigned seed) {
    CAPTURE(c.name());
    CAPTURE(seed);
    std::vector<int> old;
    for (int i = 1; i <= c.old_count; ++i) old.push_back(i);
    RolloutParams params;
    params.strategy = c.strategy;
    params.max_surge = c.max_surge;
    params.max_unavailable = c.max_unavailable;
    FakeReplicaControl control(old, 100);
    auto rollout = make_rollout(params, old, c.replicas, control);
    rollout->begin();
    std::mt19937 random(seed);
    for (int steps = 0; steps < 1000 && report_one(control, *rollout, random); ++steps) {
    }
    CAPTURE(control.joined());
    REQUIRE(rollout->state() == RolloutState::succeeded);
    CHECK(control.routed.size() == static_cast<std::size_t>(c.replicas));
    CHECK(control.alive == control.routed);
    CHECK(std::all_of(control.routed.begin(), control.routed.end(), [](int id) { return id >= 100; }));
    CHECK_FALSE(control.discarded_routed);
    if (c.strategy == RolloutStrategy::rolling) {
        const int surge = (c.max_surge == 0 && c.max_unavailable == 0) ? 1 : c.max_surge;
        CHECK(control.min_routed >= std::min(c.old_count, c.replicas - c.max_unavailable));
        CHECK(control.max_alive <= std::max(c.old_count, c.replicas + surge));
    } else {
        CHECK(control.max_alive <= std::max(c.old_count, c.replicas));
    }
}

TEST_CASE("every rollout finishes within its limits, whatever order events come in") {
    for (auto strategy : {RolloutStrategy::rolling, RolloutStrategy::recreate}) {
        for (int old_count = 0; old_count <= 4; ++old_count) {
            for (int replicas = 0; replicas <= 4; ++replicas) {
                for (int surge = 0; surge <= 2; ++surge) {
                    for (int unavailable = 0; unavailable <= 2; ++unavailable) {
                        for (unsigned seed = 1; seed <= 8; ++seed) {
                            run_to_end({strategy, old_count, replicas, surge, unavailable}, seed);
                        }
                    }
                }
            }
        }
    }
}

}  // namespace
