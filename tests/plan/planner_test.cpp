// Tests of make_plan's semantics with policy sets built in code: scope, waves, causes and how
// they merge, watch rules, resets, stops and refusals.
#include <tandem/plan.hpp>

#include "plan/waves.hpp"

#include <doctest/doctest.h>

#include "plan/plan_builders.hpp"

#include <optional>
#include <string>
#include <vector>

namespace {

using namespace tandem::test;  // the builders

using tandem::Action;
using tandem::ActionKind;
using tandem::Observed;
using tandem::Plan;
using tandem::PlanRequest;
using tandem::PolicySet;
using tandem::ServiceSpec;
using tandem::Spec;
using Paths = std::vector<std::string>;
using Kinds = std::vector<ActionKind>;

tandem::Error plan_error(const Spec& spec, const Observed& observed, const PlanRequest& request,
                         const PolicySet& policy = dev_policy()) {
    auto plan = tandem::make_plan(spec, observed, policy, request);
    REQUIRE_FALSE(plan.ok());
    return plan.error();
}

PlanRequest changed(Paths paths) {
    PlanRequest request;
    request.changed_paths = std::move(paths);
    return request;
}

Kinds kinds(const tandem::Step& step) {
    Kinds out;
    for (const Action& action : step.actions) out.push_back(action.kind);
    return out;
}

// Service names, wave by wave.
std::vector<std::vector<std::string>> layout(const Plan& plan) {
    std::vector<std::vector<std::string>> out;
    for (const auto& wave : plan.waves) {
        auto& names = out.emplace_back();
        for (const auto& step : wave.steps) names.push_back(step.service);
    }
    return out;
}

// The one step of a plan that has exactly one (a copy: plans are often temporaries here).
tandem::Step single_step(const Plan& plan) {
    REQUIRE(plan.waves.size() == 1);
    REQUIRE(plan.waves[0].steps.size() == 1);
    return plan.waves[0].steps[0];
}


}  // namespace

TEST_CASE("planner: waves follow depends_on through a three-level chain") {
    const Spec spec = spec_of({service("db"), service("cache"), built("api", {"db"}), built("web", {"api", "cache"})});
    const Observed other = running(spec_of({service("cron")}), {"cron"});  // something runs: no bootstrap
    const Plan plan = plan_ok(spec, other);
    CHECK_FALSE(plan.bootstrap);
    CHECK(layout(plan) == std::vector<std::vector<std::string>>{{"cron", "db", "cache"}, {"api"}, {"web"}});
    CHECK(kinds(plan.waves[0].steps[0]) == Kinds{ActionKind::stop});
    CHECK(kinds(plan.waves[2].steps[0]) == Kinds{ActionKind::build, ActionKind::start});
    CHECK(plan.waves[2].steps[0].actions[1].reason == "new service");

    // File order does not matter: dependencies still come first.
    const Spec reversed = spec_of({built("web", {"api"}), built("api", {"db"}), service("db")});
    CHECK(layout(plan_ok(reversed, {})) == std::vector<std::vector<std::string>>{{"db"}, {"api"}, {"web"}});
}

TEST_CASE("planner: depth is one more than the deepest dependency") {
    const Spec spec = spec_of({service("db"), service("queue"), service("api", {"db"}), service("worker", {"queue"}),
                               service("gateway", {"api", "db"}), service("edge", {"gateway", "worker"})});
    const auto depths = tandem::service_depths(spec);
    CHECK(depths.at("db") == 0);
    CHECK(depths.at("queue") == 0);
    CHECK(depths.at("api") == 1);
    CHECK(depths.at("worker") == 1);
    CHECK(depths.at("gateway") == 2);
    CHECK(depths.at("edge") == 3);
}

TEST_CASE("planner: max_parallel cuts a wave into consecutive waves, order kept") {
    const Spec spec = spec_of({built("a"), built("b"), built("c"), built("d", {"a"})});
    const Observed observed = running(spec, {"a", "b", "c", "d"});
    PolicySet two = dev_policy();
    two.updates.max_parallel = 2;
    const Plan plan = plan_ok(spec, observed, changed({"c/src/1.c", "a/src/1.c", "b/src/1.c", "d/src/1.c"}), two);
    CHECK(plan.max_parallel == 2);
    CHECK(layout(plan) == std::vector<std::vector<std::string>>{{"a", "b"}, {"c"}, {"d"}});
}

TEST_CASE("planner: only restricts the plan to the named services and their dependencies") {
    const Spec spec = spec_of({service("db"), service("cache"), built("api", {"db"}), built("web", {"api"})});
    PlanRequest request;
    request.only = {"api"};
    const Plan plan = plan_ok(spec, {}, request);
    CHECK(layout(plan) == std::vector<std::vector<std::string>>{{"db"}, {"api"}});

    // The bootstrap counts only what is in scope.
    PolicySet guarded = dev_policy();
    guarded.bootstrap.from_scratch = tandem::BootstrapRule::require_flag;
    const tandem::Error refused = plan_error(spec, {}, request, guarded);
    CHECK(refused.code == tandem::ErrorCode::bootstrap_required);
    CHECK(refused.message.find("all 2 services") != std::string::npos);

    // A service removed from the spec is not stopped by a limited plan.
    Observed observed = running(spec, {"db", "cache", "api", "web"});
    observed.services["legacy"] = tandem::ObservedService{"legacy", "x", "", 1, 1, tandem::ServiceState::ready, ""};
    observed.services["api"].fingerprint = "old";
    observed.services["web"].fingerprint = "old";
    CHECK(layout(plan_ok(spec, observed, request)) == std::vector<std::vector<std::string>>{{"api"}});
}

TEST_CASE("planner: names the spec does not have are refused with a suggestion") {
    const Spec spec = spec_of({service("db"), service("api", {"db"}), service("web")});
    const Observed observed = running(spec, {"db", "api", "web"});

    PlanRequest only;
    only.only = {"api", "apii"};
    tandem::Error error = plan_error(spec, observed, only);
    CHECK(error.code == tandem::ErrorCode::unknown_service);
    CHECK(error.message == "cannot limit the plan to 'apii': tandem.yaml has no such service (did you mean 'api'?)");

    PlanRequest trigger;
    trigger.trigger = {"wbe"};
    error = plan_error(spec, observed, trigger);
    CHECK(error.code == tandem::ErrorCode::unknown_service);
    CHECK(error.message == "cannot trigger 'wbe': tandem.yaml has no such service (did you mean 'web'?)");

    PlanRequest reset;
    reset.reset = {"postgres"};
    error = plan_error(spec, observed, reset);
    CHECK(error.code == tandem::ErrorCode::unknown_service);
    CHECK(error.message == "cannot reset 'postgres': tandem.yaml has no such service");
}

TEST_CASE("planner: services that run as their spec says are left alone") {
    const Spec spec = spec_of({service("db"), built("api", {"db"}), built("web", {"api"})});
    const Plan plan = plan_ok(spec, running(spec, {"db", "api", "web"}));
    CHECK(plan.empty());
    CHECK(plan.action_count() == 0);
    CHECK_FALSE(plan.bootstrap);

    // Only the changed service appears; its neighbours do not.
    const Plan one = plan_ok(spec, running(spec, {"db", "api", "web"}), changed({"api/src/main.c"}));
    CHECK(layout(one) == std::vector<std::vector<std::string>>{{"api"}});
}

TEST_CASE("planner: a service removed from the spec is stopped in the first wave") {
    const Spec spec = spec_of({service("db"), built("api", {"db"})});
    Observed observed = running(spec, {"db", "api"});
    observed.services["legacy"] = tandem::ObservedService{"legacy", "x", "", 2, 2, tandem::ServiceState::ready, ""};

    const tandem::Step stop = single_step(plan_ok(spec, observed));
    CHECK(stop.service == "legacy");
    REQUIRE(kinds(stop) == Kinds{ActionKind::stop});
    CHECK(stop.actions[0].reason == "removed from the spec");
    CHECK(stop.actions[0].command.empty());
    CHECK_FALSE(stop.actions[0].rollout.has_value());

    // Ahead of a deeper update, the stop still leads.
    const Plan plan = plan_ok(spec, observed, changed({"api/src/main.c"}));
    CHECK(layout(plan) == std::vector<std::vector<std::string>>{{"legacy"}, {"api"}});
}

TEST_CASE("planner: a changed fingerprint rebuilds and replaces") {
    ServiceSpec db = service("db");
    db.replicas = 1;
    ServiceSpec api = built("api", {"db"});
    api.replicas = 3;
    const Spec spec = spec_of({db, api});
    Observed observed = running(spec, {"db", "api"});
    observed.services["api"].fingerprint = "sha256:older";
    observed.services["db"].fingerprint = "sha256:older";

    const Plan plan = plan_ok(spec, observed);
    REQUIRE(layout(plan) == std::vector<std::vector<std::string>>{{"db"}, {"api"}});
    CHECK(kinds(plan.waves[0].steps[0]) == Kinds{ActionKind::replace});  // nothing to build
    const tandem::Step& step = plan.waves[1].steps[0];
    REQUIRE(kinds(step) == Kinds{ActionKind::build, ActionKind::replace});
    CHECK(step.actions[0].command == "make api");
    CHECK(step.actions[0].reason == "spec changed");
    CHECK(step.actions[1].reason == "spec changed");
    CHECK(step.actions[1].replicas == 3);
    CHECK(step.actions[1].paths.empty());
}

TEST_CASE("planner: a trigger rebuilds and replaces a running service") {
    const Spec spec = spec_of({service("db"), built("api", {"db"})});
    PlanRequest request;
    request.trigger = {"db", "api"};
    const Plan plan = plan_ok(spec, running(spec, {"db", "api"}), request);
    REQUIRE(layout(plan) == std::vector<std::vector<std::string>>{{"db"}, {"api"}});
    CHECK(kinds(plan.waves[0].steps[0]) == Kinds{ActionKind::replace});
    CHECK(kinds(plan.waves[1].steps[0]) == Kinds{ActionKind::build, ActionKind::replace});
    CHECK(plan.waves[1].steps[0].actions[0].reason == "triggered");
}

TEST_CASE("planner: a reset replaces only the running dependents") {
    ServiceSpec db = service("db");
    db.reset = tandem::ResetSpec{"./reset-db", {}};
    const Spec spec = spec_of({db, service("api", {"db"}), service("web", {"api"}), service("admin", {"db"})});
    PlanRequest request;
    request.reset = {"db"};

    // web is not running: it starts as a new service rather than being replaced for the reset.
    Observed observed = running(spec, {"db", "api", "admin"});
    const Plan plan = plan_ok(spec, observed, request);
    REQUIRE(layout(plan) == std::vector<std::vector<std::string>>{{"db"}, {"api", "admin"}, {"web"}});
    CHECK(plan.waves[1].steps[1].actions.at(0).reason == "dependency 'db' was reset");
    CHECK(kinds(plan.waves[2].steps[0]) == Kinds{ActionKind::start});
    CHECK(plan.waves[2].steps[0].actions[0].reason == "new service");

    // A reset of a service that is not running resets it, then starts it.
    const Plan cold = plan_ok(spec, running(spec, {"api"}), request);
    CHECK(kinds(cold.waves.at(0).steps.at(0)) == Kinds{ActionKind::reset, ActionKind::start});
}

TEST_CASE("planner: resetting a service without a reset command is refused") {
    const Spec spec = spec_of({service("db"), service("api", {"db"})});
    PlanRequest request;
    request.reset = {"api"};
    const tandem::Error error = plan_error(spec, running(spec, {"db", "api"}), request);
    CHECK(error.code == tandem::ErrorCode::invalid_value);
    CHECK(error.message ==
          "cannot reset 'api': its spec has no `reset:` command to run and no `state:` or named volume to empty");
}

TEST_CASE("planner: a container service with a named volume may be reset: the reset empties its volumes") {
    ServiceSpec db = service("db");
    db.container.emplace();
    db.container->image = "postgres:15";
    tandem::VolumeSpec volume;
    volume.kind = tandem::VolumeSpec::Kind::named;
    volume.source = "pgdata";
    volume.target = "/var/lib/postgresql/data";
    db.container->volumes = {volume};
    const Spec spec = spec_of({db});
    PlanRequest request;
    request.reset = {"db"};
    CHECK(kinds(plan_ok(spec, running(spec, {"db"}), request).waves.at(0).steps.at(0)) ==
          Kinds{ActionKind::reset, ActionKind::replace});
}

TEST_CASE("planner: a service with state and no reset command may be reset: the reset empties its state") {
    ServiceSpec db = service("db");
    db.state = {"pgdata", "wal"};
    const Spec spec = spec_of({db, service("api", {"db"})});
    PlanRequest request;
    request.reset = {"db"};
    const Plan plan = plan_ok(spec, running(spec, {"db", "api"}), request);
    REQUIRE(layout(plan) == std::vector<std::vector<std::string>>{{"db"}, {"api"}});
    CHECK(kinds(plan.waves[0].steps[0]) == Kinds{ActionKind::reset, ActionKind::replace});
    const Action& reset = plan.waves[0].steps[0].actions[0];
    CHECK(reset.command.empty());
    CHECK(reset.state == std::vector<std::string>{"pgdata", "wal"});
    CHECK(tandem::format_table(plan).find("empty pgdata, wal") != std::string::npos);
    CHECK(tandem::to_json(plan, -1).find(R"("state":["pgdata","wal"])") != std::string::npos);

    // With a command too, the plan says both.
    db.reset = tandem::ResetSpec{"initdb ${state.pgdata}", {}};
    const Spec with_command = spec_of({db});
    const Plan both = plan_ok(with_command, running(with_command, {"db"}), request);
    CHECK(tandem::format_table(both).find("empty pgdata, wal; initdb ${state.pgdata}") != std::string::npos);
}

TEST_CASE("planner: a denied reset is refused before any other work is planned") {
    ServiceSpec db = service("db");
    db.reset = tandem::ResetSpec{"./reset-db", {}};
    const Spec spec = spec_of({db, built("api")});
    PolicySet strict = dev_policy();
    strict.name = "prod";
    strict.database.reset = tandem::Permission::deny;
    PlanRequest request = changed({"api/src/x.c"});
    request.reset = {"db", "api"};
    const tandem::Error error = plan_error(spec, running(spec, {"db", "api"}), request, strict);
    CHECK(error.code == tandem::ErrorCode::policy_denied);
    CHECK(error.message ==
          "policy 'prod' denies database.reset: services 'db', 'api' were not reset; nothing was touched");
}

TEST_CASE("planner: an empty spec with nothing running is no bootstrap") {
    const Plan plan = plan_ok(spec_of({}), {});
    CHECK(plan.empty());
    CHECK_FALSE(plan.bootstrap);
    CHECK_FALSE(plan.incident);
}

TEST_CASE("planner: actions carry the policy's knobs") {
    PolicySet policy = dev_policy();
    policy.name = "custom";
    policy.crash.on_crash = tandem::CrashAction::revert;
    policy.updates.cancel_in_flight = false;
    policy.artifacts.immutable = true;
    policy.auto_revert.enabled = true;
    policy.rollout.strategy = tandem::RolloutStrategy::rolling;
    policy.rollout.max_surge = 2;
    policy.rollout.max_unavailable = 1;
    policy.rollout.health_gate = false;
    policy.rollout.gate_timeout = tandem::Duration{1500};
    policy.rollout.drain_timeout = tandem::Duration{250};
    policy.audit.enabled = true;
    policy.audit.path = "logs/audit.jsonl";
    policy.history.keep = 3;

    ServiceSpec api = built("api");
    api.replicas = 4;
    const Spec spec = spec_of({api});
    Observed observed = running(spec, {"api"});
    observed.services["api"].fingerprint = "old";
    PlanRequest request;
    request.revision = "9f8e7d";
    const Plan plan = plan_ok(spec, observed, request, policy);
    CHECK(plan.policy == "custom");
    CHECK(plan.revision == "9f8e7d");
    CHECK(plan.audit_path == std::optional<std::string>("logs/audit.jsonl"));
    CHECK(plan.history_keep == 3);

    const tandem::Step step = single_step(plan);
    const Action& build = step.actions.at(0);
    CHECK_FALSE(build.cancellable);
    CHECK(build.immutable);
    const Action& replace = step.actions.at(1);
    CHECK(replace.replicas == 4);
    CHECK(replace.on_crash == tandem::CrashAction::revert);
    CHECK(replace.verify_digest);
    CHECK(replace.auto_revert);
    REQUIRE(replace.rollout.has_value());
    CHECK(replace.rollout->strategy == tandem::RolloutStrategy::rolling);
    CHECK(replace.rollout->max_surge == 2);
    CHECK(replace.rollout->max_unavailable == 1);
    CHECK_FALSE(replace.rollout->health_gate);
    CHECK(replace.rollout->gate_timeout == tandem::Duration{1500});
    CHECK(replace.rollout->drain_timeout == tandem::Duration{250});
}

TEST_CASE("planner: a started service has no rollout and no auto-revert") {
    PolicySet policy = dev_policy();
    policy.auto_revert.enabled = true;
    const Spec spec = spec_of({service("db"), service("api", {"db"})});
    const Plan plan = plan_ok(spec, running(spec, {"db"}), {}, policy);
    const tandem::Step step = single_step(plan);
    const Action& start = step.actions.at(0);
    CHECK(start.kind == ActionKind::start);
    CHECK_FALSE(start.rollout.has_value());
    CHECK_FALSE(start.auto_revert);
    CHECK(start.replicas == 1);
}

TEST_CASE("planner: names of action kinds and service states") {
    CHECK(std::string(tandem::to_string(ActionKind::build)) == "build");
    CHECK(std::string(tandem::to_string(ActionKind::start)) == "start");
    CHECK(std::string(tandem::to_string(ActionKind::replace)) == "replace");
    CHECK(std::string(tandem::to_string(ActionKind::stop)) == "stop");
    CHECK(std::string(tandem::to_string(ActionKind::sync)) == "sync");
    CHECK(std::string(tandem::to_string(ActionKind::run)) == "run");
    CHECK(std::string(tandem::to_string(ActionKind::reset)) == "reset");
    CHECK(std::string(tandem::to_string(tandem::ServiceState::stopped)) == "stopped");
    CHECK(std::string(tandem::to_string(tandem::ServiceState::building)) == "building");
    CHECK(std::string(tandem::to_string(tandem::ServiceState::starting)) == "starting");
    CHECK(std::string(tandem::to_string(tandem::ServiceState::ready)) == "ready");
    CHECK(std::string(tandem::to_string(tandem::ServiceState::degraded)) == "degraded");
    CHECK(std::string(tandem::to_string(tandem::ServiceState::crashed)) == "crashed");
}
