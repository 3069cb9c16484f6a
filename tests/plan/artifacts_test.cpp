// Tests of plans for services whose artifacts were built ahead of the plan (PlanRequest::artifacts):
// no build actions, a replace when the running artifact differs, and the digest on each launch.
#include <tandem/plan.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "plan/plan_builders.hpp"

#include <string>
#include <vector>

namespace {

using namespace tandem::test;  // the builders

using tandem::Action;
using tandem::ActionKind;
using tandem::Observed;
using tandem::Plan;
using tandem::PlanRequest;
using tandem::Spec;

const std::string kOld = "sha256:1a2b3c4d" + std::string(56, '0');
const std::string kNew = "sha256:5e6f7a8b" + std::string(56, 'f');

PlanRequest with_artifacts(std::map<std::string, std::string> artifacts) {
    PlanRequest request;
    request.artifacts = std::move(artifacts);
    return request;
}

// `names` running as their spec says, each on `digest`.
Observed running_on(const Spec& spec, const std::vector<std::string>& names, const std::string& digest) {
    Observed observed = running(spec, names);
    for (auto& [name, service] : observed.services) service.artifact_digest = digest;
    return observed;
}

// Every action of the plan, wave by wave.
std::vector<Action> actions_of(const Plan& plan) {
    std::vector<Action> out;
    for (const auto& wave : plan.waves)
        for (const auto& step : wave.steps) out.insert(out.end(), step.actions.begin(), step.actions.end());
    return out;
}

}  // namespace

TEST_CASE("artifacts: a new service with an artifact is started without a build, carrying the digest") {
    const Spec spec = spec_of({built("db"), built("api", {"db"})});
    const Plan plan = plan_ok(spec, running(spec, {"db"}), with_artifacts({{"api", kNew}}));
    const auto actions = actions_of(plan);
    REQUIRE(actions.size() == 1);
    CHECK(actions[0].kind == ActionKind::start);
    CHECK(actions[0].service == "api");
    CHECK(actions[0].reason == "new service");
    CHECK(actions[0].artifact_digest == kNew);
}

TEST_CASE("artifacts: a bootstrap builds only the services without an artifact") {
    const Spec spec = spec_of({built("db"), built("api", {"db"})});
    const Plan plan = plan_ok(spec, {}, with_artifacts({{"api", kNew}}));
    REQUIRE(plan.waves.size() == 2);
    const auto& db = plan.waves[0].steps.at(0);
    REQUIRE(db.actions.size() == 2);
    CHECK(db.actions[0].kind == ActionKind::build);
    CHECK(db.actions[1].kind == ActionKind::start);
    CHECK(db.actions[1].artifact_digest.empty());
    const auto& api = plan.waves[1].steps.at(0);
    REQUIRE(api.actions.size() == 1);
    CHECK(api.actions[0].kind == ActionKind::start);
    CHECK(api.actions[0].reason == "bootstrap");
    CHECK(api.actions[0].artifact_digest == kNew);
}

TEST_CASE("artifacts: a service running another artifact is replaced, and only it") {
    const Spec spec = spec_of({built("db"), built("api", {"db"})});
    Observed observed = running_on(spec, {"db", "api"}, kOld);
    const Plan plan = plan_ok(spec, observed, with_artifacts({{"db", kOld}, {"api", kNew}}));
    const auto actions = actions_of(plan);
    REQUIRE(actions.size() == 1);
    CHECK(actions[0].kind == ActionKind::replace);
    CHECK(actions[0].service == "api");
    CHECK(actions[0].reason == "artifact sha256:1a2b3c4d → sha256:5e6f7a8b");
    CHECK(actions[0].artifact_digest == kNew);
    CHECK(actions[0].rollout.has_value());
}

TEST_CASE("artifacts: a service that ran no artifact before is replaced onto one") {
    const Spec spec = spec_of({service("api")});
    const Plan plan = plan_ok(spec, running(spec, {"api"}), with_artifacts({{"api", kNew}}));
    const auto actions = actions_of(plan);
    REQUIRE(actions.size() == 1);
    CHECK(actions[0].kind == ActionKind::replace);
    CHECK(actions[0].reason == "artifact none → sha256:5e6f7a8b");
}

TEST_CASE("artifacts: same digest, same spec and no path hit leave the service untouched") {
    const Spec spec = spec_of({built("db"), built("api", {"db"})});
    const Observed observed = running_on(spec, {"db", "api"}, kNew);
    PlanRequest request = with_artifacts({{"db", kNew}, {"api", kNew}});
    request.changed_paths = {"README.md", "docs/intro.md"};
    CHECK(plan_ok(spec, observed, request).empty());
}

TEST_CASE("artifacts: a changed spec or build input replaces without a build") {
    Spec spec = spec_of({built("api")});
    const Observed observed = running_on(spec, {"api"}, kNew);

    SUBCASE("build input") {
        PlanRequest request = with_artifacts({{"api", kNew}});
        request.changed_paths = {"api/src/main.c"};
        const auto actions = actions_of(plan_ok(spec, observed, request));
        REQUIRE(actions.size() == 1);
        CHECK(actions[0].kind == ActionKind::replace);
        CHECK(actions[0].reason == "api/src/main.c changed");
        CHECK(actions[0].paths == std::vector<std::string>{"api/src/main.c"});
        CHECK(actions[0].artifact_digest == kNew);
    }
    SUBCASE("spec, together with a new artifact") {
        spec.services[0].replicas = 3;
        const auto actions = actions_of(plan_ok(spec, observed, with_artifacts({{"api", kOld}})));
        REQUIRE(actions.size() == 1);
        CHECK(actions[0].kind == ActionKind::replace);
        CHECK(actions[0].reason == "spec changed, artifact sha256:5e6f7a8b → sha256:1a2b3c4d");
        CHECK(actions[0].replicas == 3);
        CHECK(actions[0].artifact_digest == kOld);
    }
}

TEST_CASE("artifacts: triggered and reset-affected services relaunch without a build, on their artifact") {
    Spec spec = spec_of({built("db"), built("api", {"db"})});
    spec.services[0].reset = tandem::ResetSpec{"./wipe-db", {}};
    const Observed observed = running_on(spec, {"db", "api"}, kNew);
    PlanRequest request = with_artifacts({{"db", kNew}, {"api", kNew}});

    SUBCASE("trigger") {
        request.trigger = {"api"};
        const auto actions = actions_of(plan_ok(spec, observed, request));
        REQUIRE(actions.size() == 1);
        CHECK(actions[0].kind == ActionKind::replace);
        CHECK(actions[0].reason == "triggered");
        CHECK(actions[0].artifact_digest == kNew);
    }
    SUBCASE("reset") {
        request.reset = {"db"};
        const auto actions = actions_of(plan_ok(spec, observed, request));
        REQUIRE(actions.size() == 3);
        CHECK(actions[0].kind == ActionKind::reset);
        CHECK(actions[1].kind == ActionKind::replace);
        CHECK(actions[1].artifact_digest == kNew);
        CHECK(actions[2].service == "api");
        CHECK(actions[2].reason == "dependency 'db' was reset");
        CHECK(actions[2].artifact_digest == kNew);
    }
}

TEST_CASE("artifacts: an artifact for a service the spec does not have is refused") {
    const Spec spec = spec_of({built("api")});
    auto plan = tandem::make_plan(spec, {}, dev_policy(), with_artifacts({{"apj", kNew}}));
    REQUIRE_FALSE(plan.ok());
    CHECK(plan.error().code == tandem::ErrorCode::unknown_service);
    CHECK(plan.error().message == "cannot use an artifact for 'apj': tandem.yaml has no such service "
                                  "(did you mean 'api'?)");
}

TEST_CASE("artifacts: the table and the JSON show the digest of each launch") {
    const Spec spec = spec_of({built("api")});
    const Plan plan = plan_ok(spec, running_on(spec, {"api"}, kOld), with_artifacts({{"api", kNew}}));
    CHECK(tandem::format_table(plan).find("  api  replace  1 replica, recreate  artifact sha256:5e6f7a8b · "
                                          "on crash: restart (artifact sha256:1a2b3c4d → sha256:5e6f7a8b)\n") !=
          std::string::npos);
    const auto json = nlohmann::json::parse(tandem::to_json(plan));
    CHECK(json["waves"][0]["steps"][0]["actions"][0]["artifact_digest"] == kNew);

    const Plan built_plan = plan_ok(spec, {});
    CHECK_FALSE(nlohmann::json::parse(tandem::to_json(built_plan))["waves"][0]["steps"][0]["actions"][1].contains(
        "artifact_digest"));
}
