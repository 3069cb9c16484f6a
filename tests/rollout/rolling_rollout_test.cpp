// The rolling rollout driven step by step: exact command sequences, the surge and availability
// limits, failing gates, scaling, crashes of old replicas and stray events.
#include "execute/rollout.hpp"

#include <doctest/doctest.h>

#include "rollout/fake_replica_control.hpp"

#include <memory>
#include <string>
#include <vector>

namespace {

using tandem::RolloutParams;
using tandem::RolloutStrategy;
using tandem::execute::make_rollout;
using tandem::execute::Rollout;
using tandem::execute::RolloutState;
using tandem::test::FakeReplicaControl;

RolloutParams rolling(int max_surge, int max_unavailable) {
    RolloutParams params;
    params.strategy = RolloutStrategy::rolling;
    params.max_surge = max_surge;
    params.max_unavailable = max_unavailable;
    return params;
}

TEST_CASE("rolling R=2 surge 1: one new replica at a time, never fewer than 2 serving") {
    FakeReplicaControl control({1, 2});
    auto rollout = make_rollout(rolling(1, 0), {1, 2}, 2, control);
    rollout->begin();
    CHECK(control.joined() == "start 10");
    control.ready(*rollout, 10);
    CHECK(control.joined() == "start 10, route 10, retire 1");
    // Old replica 1 is still draining: starting another would make 4 alive.
    control.ready(*rollout, 10);
    CHECK(control.commands.size() == 3);
    control.stopped(*rollout, 1);
    CHECK(control.joined() == "start 10, route 10, retire 1, start 11");
    control.ready(*rollout, 11);
    CHECK(control.joined() == "start 10, route 10, retire 1, start 11, route 11, retire 2");
    CHECK(rollout->state() == RolloutState::running);
    control.stopped(*rollout, 2);
    CHECK(rollout->state() == RolloutState::succeeded);
    CHECK(control.commands.size() == 6);
    CHECK(control.min_routed >= 2);
    CHECK(control.max_alive <= 3);
    CHECK(control.routed == std::set<int>{10, 11});
}

TEST_CASE("rolling R=2 unavailable 1, no surge: retire first, then start in its place") {
    FakeReplicaControl control({1, 2});
    auto rollout = make_rollout(rolling(0, 1), {1, 2}, 2, control);
    rollout->begin();
    CHECK(control.joined() == "retire 1");
    control.stopped(*rollout, 1);
    CHECK(control.joined() == "retire 1, start 10");
    control.ready(*rollout, 10);
    CHECK(control.joined() == "retire 1, start 10, route 10, retire 2");
    control.stopped(*rollout, 2);
    control.ready(*rollout, 11);
    CHECK(control.joined() == "retire 1, start 10, route 10, retire 2, start 11, route 11");
    CHECK(rollout->state() == RolloutState::succeeded);
    CHECK(control.min_routed >= 1);
    CHECK(control.max_alive <= 2);
}

TEST_CASE("rolling with neither surge nor unavailability allowed surges by one") {
    FakeReplicaControl control({1, 2});
    auto rollout = make_rollout(rolling(0, 0), {1, 2}, 2, control);
    rollout->begin();
    CHECK(control.joined() == "start 10");
}

TEST_CASE("rolling: a new replica failing its gate fails the rollout and the old ones keep serving") {
    FakeReplicaControl control({1, 2});
    auto rollout = make_rollout(rolling(1, 0), {1, 2}, 2, control);
    rollout->begin();
    control.ready(*rollout, 10);
    control.stopped(*rollout, 1);
    control.failed(*rollout, 11, "health check timed out after 30s");
    CHECK(rollout->state() == RolloutState::failed);
    CHECK(rollout->error().find("11") != std::string::npos);
    CHECK(rollout->error().find("health check timed out after 30s") != std::string::npos);
    // Only old replica 1, replaced by 10, was retired; 2 still serves beside 10.
    CHECK(control.joined() == "start 10, route 10, retire 1, start 11, discard 11");
    CHECK(control.routed == std::set<int>{2, 10});
    CHECK_FALSE(control.discarded_routed);

    // Whatever comes after is ignored.
    control.stopped(*rollout, 11);
    control.ready(*rollout, 11);
    control.stopped(*rollout, 2);
    CHECK(control.commands.size() == 5);
    CHECK(rollout->state() == RolloutState::failed);
}

TEST_CASE("rolling: the first new replica failing leaves every old one routed") {
    FakeReplicaControl control({1, 2, 3});
    auto rollout = make_rollout(rolling(2, 0), {1, 2, 3}, 3, control);
    rollout->begin();
    CHECK(control.joined() == "start 10, start 11");
    control.failed(*rollout, 10, "exited with code 1");
    // The other one still starting would never be routed now: it is discarded too.
    CHECK(control.joined() == "start 10, start 11, discard 10, discard 11");
    CHECK(rollout->state() == RolloutState::failed);
    CHECK(control.routed == std::set<int>{1, 2, 3});
}

TEST_CASE("rolling: a routed new replica that crashes fails the rollout and is retired") {
    FakeReplicaControl control({1, 2});
    auto rollout = make_rollout(rolling(1, 0), {1, 2}, 2, control);
    rollout->begin();
    control.ready(*rollout, 10);
    rollout->replica_failed(10, "killed by SIGSEGV");
    CHECK(rollout->state() == RolloutState::failed);
    CHECK(control.joined() == "start 10, route 10, retire 1, retire 10");
}

TEST_CASE("rolling fresh start: no old replicas, start all within the surge") {
    FakeReplicaControl control({});
    auto rollout = make_rollout(rolling(1, 0), {}, 2, control);
    rollout->begin();
    CHECK(control.joined() == "start 10, start 11");
    control.ready(*rollout, 11);
    CHECK(rollout->state() == RolloutState::running);
    control.ready(*rollout, 10);
    CHECK(control.joined() == "start 10, start 11, route 11, route 10");
    CHECK(rollout->state() == RolloutState::succeeded);
}

TEST_CASE("rolling scale down 3 -> 1: retire down to 1 serving, replace the last") {
    FakeReplicaControl control({1, 2, 3});
    auto rollout = make_rollout(rolling(1, 0), {1, 2, 3}, 1, control);
    rollout->begin();
    CHECK(control.joined() == "retire 1, retire 2");
    control.stopped(*rollout, 1);
    CHECK(control.commands.size() == 2);  // 2 still draining: 2 alive is the limit
    control.stopped(*rollout, 2);
    CHECK(control.joined() == "retire 1, retire 2, start 10");
    control.ready(*rollout, 10);
    CHECK(control.joined() == "retire 1, retire 2, start 10, route 10, retire 3");
    control.stopped(*rollout, 3);
    CHECK(rollout->state() == RolloutState::succeeded);
    CHECK(control.min_routed >= 1);
    CHECK(control.max_alive <= 3);  // the three old ones it started from
}

TEST_CASE("rolling scale up 1 -> 3: start all three, retire the old one last") {
    FakeReplicaControl control({1});
    auto rollout = make_rollout(rolling(1, 0), {1}, 3, control);
    rollout->begin();
    CHECK(control.joined() == "start 10, start 11, start 12");
    control.ready(*rollout, 10);
    control.ready(*rollout, 11);
    CHECK(control.joined() == "start 10, start 11, start 12, route 10, route 11");
    control.ready(*rollout, 12);
    CHECK(control.joined() == "start 10, start 11, start 12, route 10, route 11, route 12, retire 1");
    control.stopped(*rollout, 1);
    CHECK(rollout->state() == RolloutState::succeeded);
    CHECK(control.max_alive <= 4);
}

TEST_CASE("rolling scale to zero retires everything") {
    FakeReplicaControl control({1, 2});
    auto rollout = make_rollout(rolling(1, 0), {1, 2}, 0, control);
    rollout->begin();
    CHECK(control.joined() == "retire 1, retire 2");
    control.stopped(*rollout, 2);
    CHECK(rollout->state() == RolloutState::running);
    control.stopped(*rollout, 1);
    CHECK(rollout->state() == RolloutState::succeeded);
}

TEST_CASE("rolling: an old replica crashing mid-rollout is just gone") {
    FakeReplicaControl control({1, 2});
    auto rollout = make_rollout(rolling(1, 0), {1, 2}, 2, control);
    rollout->begin();
    control.failed(*rollout, 2, "killed by SIGSEGV");
    CHECK(rollout->state() == RolloutState::running);
    // Room for one more alive: the second new replica starts at once.
    CHECK(control.joined() == "start 10, start 11");
    control.ready(*rollout, 10);
    CHECK(control.joined() == "start 10, start 11, route 10");  // 1 and 10 serve: keep both
    control.ready(*rollout, 11);
    CHECK(control.joined() == "start 10, start 11, route 10, route 11, retire 1");
    control.stopped(*rollout, 1);
    CHECK(rollout->state() == RolloutState::succeeded);
}

TEST_CASE("rolling: an old replica crashing while it drains counts as stopped") {
    FakeReplicaControl control({1, 2});
    auto rollout = make_rollout(rolling(1, 0), {1, 2}, 2, control);
    rollout->begin();
    control.ready(*rollout, 10);
    control.failed(*rollout, 1, "killed by SIGSEGV");
    CHECK(rollout->state() == RolloutState::running);
    CHECK(control.joined() == "start 10, route 10, retire 1, start 11");
    control.stopped(*rollout, 1);  // a late report changes nothing
    CHECK(control.commands.size() == 4);
}

TEST_CASE("rolling: unknown ids and out-of-place events are ignored") {
    FakeReplicaControl control({1, 2});
    auto rollout = make_rollout(rolling(1, 0), {1, 2}, 2, control);
    rollout->begin();
    rollout->replica_ready(99);
    rollout->replica_failed(99, "no such replica");
    rollout->replica_stopped(99);
    rollout->replica_ready(1);  // an old replica is already routed
    CHECK(control.joined() == "start 10");
    CHECK(rollout->state() == RolloutState::running);
    control.ready(*rollout, 10);
    control.ready(*rollout, 10);  // twice
    CHECK(control.joined() == "start 10, route 10, retire 1");
    rollout->begin();  // again
    CHECK(control.commands.size() == 3);
}

TEST_CASE("rolling: a new replica exiting before it is ready fails the rollout") {
    FakeReplicaControl control({1});
    auto rollout = make_rollout(rolling(1, 0), {1}, 1, control);
    rollout->begin();
    control.stopped(*rollout, 10);
    CHECK(rollout->state() == RolloutState::failed);
    CHECK(control.routed == std::set<int>{1});
}

TEST_CASE("rollout states have names") {
    CHECK(std::string(to_string(RolloutState::running)) == "running");
    CHECK(std::string(to_string(RolloutState::succeeded)) == "succeeded");
    CHECK(std::string(to_string(RolloutState::failed)) == "failed");
}

}  // namespace
