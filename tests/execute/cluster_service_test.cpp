// A service its runtime orchestrates (a cluster: Runtime::orchestrates), on the fake runtime: the
// executor hands each release over whole with the policy's rules, shows what the cluster runs,
// keeps the previous release when the cluster rolls an update back, removes the service on a
// stop action and only detaches from it when the engine ends.
#include <doctest/doctest.h>

#include "runtime/runtime_fixture.hpp"
#include "support/fake_engine.hpp"

#include <tandem/plan.hpp>

using namespace std::chrono_literals;
using namespace tandem::test;
using tandem::Duration;

namespace {

struct Engine : Events, FakeEngine {
    explicit Engine(const std::filesystem::path& root)
        : FakeEngine(root, root / ".tandem", [this](const tandem::RuntimeEvent& e) { add(e); }) {}
};

const std::string auto_revert_policy = "  fast:\n    from: harness\n    auto_revert:\n      window: 7s\n";

}  // namespace

TEST_CASE("executor on a fake cluster: a release is handed over whole with the policy's rollout rules") {
    Project project(fake_service("api", 18080, "v1", 3), "fast", auto_revert_policy);
    Engine engine(project.dir.path());
    engine.fake->orchestrate("api", [](const tandem::ServiceUpdate&) { return tandem::Status(tandem::Ok{}); });
    auto applied = plan_and_apply(*engine.executor, project.loaded);
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());

    CHECK(engine.fake->replicas().empty());  // no replica of ours: the cluster's tasks
    project.rewrite(fake_service("api", 18080, "v2", 3), "fast", auto_revert_policy);
    applied = plan_and_apply(*engine.executor, project.loaded);
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());
    CHECK(engine.fake->replicas().empty());

    const auto updates = engine.fake->updates();
    REQUIRE(updates.size() == 2);
    CHECK(updates[0].rollout.strategy == tandem::RolloutStrategy::recreate);  // a first start
    const tandem::ServiceUpdate& update = updates[1];  // a replace: the policy's rollout
    const tandem::PolicySet& policy = project.loaded.policy;
    CHECK(update.service.name == "api");
    CHECK(update.replicas == 3);
    CHECK(update.rollout.strategy == tandem::RolloutStrategy::rolling);
    CHECK(update.rollout.max_surge == policy.rollout.max_surge);
    CHECK(update.rollout.max_unavailable == policy.rollout.max_unavailable);
    CHECK(update.rollout.gate_timeout == policy.rollout.gate_timeout);
    CHECK(update.monitor == Duration{7000});  // the revert window
    CHECK(update.restart_delay == policy.crash.backoff_initial);
    CHECK(update.service.run.argv.back() == "v2");
    CHECK_FALSE(update.fingerprint.empty());
    CHECK(update.fingerprint != updates[0].fingerprint);
    CHECK(update.output);

    const auto status = engine.status("api");
    CHECK(status.state == tandem::ServiceState::ready);
    REQUIRE(status.replicas.size() == 3);
    CHECK(status.replicas[1].handle == "task 2 on node-2");
    CHECK(status.fingerprint == update.fingerprint);
    CHECK(engine.executor->observe().services.at("api").replicas == 3);
}

TEST_CASE("executor on a fake cluster: an update the cluster rolls back fails the apply and the previous release stays") {
    Project project(fake_service("api", 18080, "v1", 2), "fast", auto_revert_policy);
    Engine engine(project.dir.path());
    engine.fake->orchestrate("api", [](const tandem::ServiceUpdate& update) -> tandem::Status {
        if (update.service.run.argv.back() == "v2")
            return tandem::make_error(tandem::ErrorCode::rollout_failed, "swarm rolled back the update: task api.1 failed");
        return tandem::Ok{};
    });
    REQUIRE(plan_and_apply(*engine.executor, project.loaded).ok());
    const std::string v1 = engine.status("api").fingerprint;

    project.rewrite(fake_service("api", 18080, "v2", 2), "fast", auto_revert_policy);
    auto applied = plan_and_apply(*engine.executor, project.loaded);
    REQUIRE_FALSE(applied.ok());
    CHECK(applied.error().message.find("task api.1 failed") != std::string::npos);
    const auto status = engine.status("api");
    CHECK(status.fingerprint == v1);  // what the cluster runs again
    CHECK(status.state == tandem::ServiceState::ready);
    CHECK(status.last_error.find("rolled back") != std::string::npos);
    // Planning again from what runs replaces it again: nothing was taken for deployed.
    auto plan = tandem::make_plan(project.loaded.spec, engine.executor->observe(), project.loaded.policy, {});
    REQUIRE(plan.ok());
    REQUIRE_FALSE(plan->waves.empty());
}

TEST_CASE("executor on a fake cluster: a stop action removes the service and the engine's end only detaches") {
    Project project(fake_service("api", 18080, "v1", 1) + fake_service("web", 18081, "v1", 1), "fast",
                    auto_revert_policy);
    Engine engine(project.dir.path());
    auto ok = [](const tandem::ServiceUpdate&) { return tandem::Status(tandem::Ok{}); };
    engine.fake->orchestrate("api", ok);
    engine.fake->orchestrate("web", ok);
    REQUIRE(plan_and_apply(*engine.executor, project.loaded).ok());

    project.rewrite(fake_service("web", 18081, "v1", 1), "fast", auto_revert_policy);
    auto applied = plan_and_apply(*engine.executor, project.loaded);
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());
    engine.executor->stop_all();
    const auto journal = engine.fake->journal();
    CHECK(std::find(journal.begin(), journal.end(), "remove api") != journal.end());
    CHECK(std::find(journal.begin(), journal.end(), "detach web") != journal.end());
    CHECK(std::find(journal.begin(), journal.end(), "remove web") == journal.end());
}
