// The recreate rollout driven step by step: everything old goes, then everything new comes.
#include "execute/rollout.hpp"

#include <doctest/doctest.h>

#include "rollout/fake_replica_control.hpp"

#include <string>

namespace {

using tandem::RolloutParams;
using tandem::RolloutStrategy;
using tandem::execute::make_rollout;
using tandem::execute::RolloutState;
using tandem::test::FakeReplicaControl;

RolloutParams recreate() {
    RolloutParams params;
    params.strategy = RolloutStrategy::recreate;
    params.max_surge = 5;  // ignored by recreate
    return params;
}

TEST_CASE("recreate retires all old replicas at once, then starts and routes the new ones") {
    FakeReplicaControl control({1, 2});
    auto rollout = make_rollout(recreate(), {1, 2}, 2, control);
    rollout->begin();
    CHECK(control.joined() == "retire 1, retire 2");
    control.stopped(*rollout, 2);
    CHECK(control.commands.size() == 2);  // 1 is still running
    control.stopped(*rollout, 1);
    CHECK(control.joined() == "retire 1, retire 2, start 10, start 11");
    control.ready(*rollout, 11);
    CHECK(rollout->state() == RolloutState::running);
    control.ready(*rollout, 10);
    CHECK(control.joined() == "retire 1, retire 2, start 10, start 11, route 11, route 10");
    CHECK(rollout->state() == RolloutState::succeeded);
}

TEST_CASE("recreate from nothing starts everything at once") {
    FakeReplicaControl control({});
    auto rollout = make_rollout(recreate(), {}, 3, control);
    rollout->begin();
    CHECK(control.joined() == "start 10, start 11, start 12");
}

TEST_CASE("recreate with a failing new replica fails, discarding the ones still starting") {
    FakeReplicaControl control({1});
    auto rollout = make_rollout(recreate(), {1}, 3, control);
    rollout->begin();
    control.stopped(*rollout, 1);
    control.ready(*rollout, 10);
    control.failed(*rollout, 11, "port 8080 never opened");
    CHECK(rollout->state() == RolloutState::failed);
    CHECK(rollout->error() == "new replica 11 failed: port 8080 never opened");
    CHECK(control.joined() == "retire 1, start 10, start 11, start 12, route 10, discard 11, discard 12");
    CHECK(control.routed == std::set<int>{10});
}

TEST_CASE("recreate scales 3 -> 1 and 1 -> 3") {
    FakeReplicaControl down({1, 2, 3});
    auto shrink = make_rollout(recreate(), {1, 2, 3}, 1, down);
    shrink->begin();
    for (int id : {1, 2, 3}) down.stopped(*shrink, id);
    down.ready(*shrink, 10);
    CHECK(down.joined() == "retire 1, retire 2, retire 3, start 10, route 10");
    CHECK(shrink->state() == RolloutState::succeeded);

    FakeReplicaControl up({1});
    auto grow = make_rollout(recreate(), {1}, 3, up);
    grow->begin();
    up.stopped(*grow, 1);
    for (int id : {10, 11, 12}) up.ready(*grow, id);
    CHECK(up.joined() == "retire 1, start 10, start 11, start 12, route 10, route 11, route 12");
    CHECK(grow->state() == RolloutState::succeeded);
}

TEST_CASE("recreate: an old replica crashing while it stops counts as stopped - unknown ids are ignored") {
    FakeReplicaControl control({1, 2});
    auto rollout = make_rollout(recreate(), {1, 2}, 1, control);
    rollout->begin();
    rollout->replica_stopped(42);
    rollout->replica_ready(42);
    control.failed(*rollout, 1, "killed by SIGSEGV");
    CHECK(control.joined() == "retire 1, retire 2");
    control.stopped(*rollout, 2);
    CHECK(control.joined() == "retire 1, retire 2, start 10");
    control.stopped(*rollout, 1);  // late, changes nothing
    control.ready(*rollout, 10);
    CHECK(rollout->state() == RolloutState::succeeded);
    CHECK(control.commands.size() == 4);
}

}  // namespace
