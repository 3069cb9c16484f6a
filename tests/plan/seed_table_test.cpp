// One test per row of the design's seed table: the same input planned under the built-in
// `wip` and `harness` sets, and the exact difference the row promises.
#include <tandem/plan.hpp>

#include <doctest/doctest.h>

#include "plan/plan_builders.hpp"

#include <algorithm>
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

PolicySet policy(const char* name) {
    auto set = tandem::builtin_policy(name);
    REQUIRE_MESSAGE(set.ok(), set.error().to_string());
    return *set;
}

// The plan of the built-in set `policy_name`; fails the test if the set refuses.
Plan plan_ok(const Spec& spec, const Observed& observed, const char* policy_name, const PlanRequest& request = {}) {
    return tandem::test::plan_ok(spec, observed, request, policy(policy_name));
}

tandem::Error plan_error(const Spec& spec, const Observed& observed, const char* policy_name,
                         const PlanRequest& request = {}) {
    auto plan = tandem::make_plan(spec, observed, policy(policy_name), request);
    REQUIRE_FALSE(plan.ok());
    return plan.error();
}

std::vector<ActionKind> kinds(const tandem::Step& step) {
    std::vector<ActionKind> out;
    for (const Action& action : step.actions) out.push_back(action.kind);
    return out;
}

// The action of `kind` for `service`; fails the test when there is not exactly one.
const Action& action_of(const Plan& plan, const std::string& service, ActionKind kind) {
    const Action* found = nullptr;
    int count = 0;
    for (const auto& wave : plan.waves)
        for (const auto& step : wave.steps)
            for (const auto& action : step.actions)
                if (action.service == service && action.kind == kind) {
                    found = &action;
                    ++count;
                }
    REQUIRE_MESSAGE(count == 1, service << " has " << count << " " << tandem::to_string(kind) << " actions");
    return *found;
}

// db runs; api (built, new) is to start.
struct NewApi {
    Spec spec = spec_of({service("db"), built("api", {"db"})});
    Observed observed = running(spec, {"db"});
};

// api runs from an older spec: it is to be rebuilt and replaced.
struct ChangedApi {
    Spec spec = spec_of({built("api")});
    Observed observed = running(spec, {"api"});
    ChangedApi() { observed.services["api"].fingerprint = "sha256:older"; }
};

}  // namespace

TEST_CASE("seed row 'add segfaults to see what breaks': crash.on_crash restart vs revert") {
    NewApi input;
    const Plan wip = plan_ok(input.spec, input.observed, "wip");
    const Plan harness = plan_ok(input.spec, input.observed, "harness");
    CHECK(action_of(wip, "api", ActionKind::start).on_crash == tandem::CrashAction::restart);
    CHECK(action_of(harness, "api", ActionKind::start).on_crash == tandem::CrashAction::revert);

    ChangedApi changed;
    CHECK(action_of(plan_ok(changed.spec, changed.observed, "wip"), "api", ActionKind::replace).on_crash ==
          tandem::CrashAction::restart);
    CHECK(action_of(plan_ok(changed.spec, changed.observed, "harness"), "api", ActionKind::replace).on_crash ==
          tandem::CrashAction::revert);
}

TEST_CASE("seed row 'bring up all services from scratch': bootstrap.from_scratch allow vs require_flag") {
    const Spec spec = spec_of({service("db"), built("api", {"db"})});
    const Observed nothing;

    const Plan wip = plan_ok(spec, nothing, "wip");
    CHECK(wip.bootstrap);
    CHECK_FALSE(wip.incident);
    REQUIRE(wip.waves.size() == 2);
    CHECK(kinds(wip.waves[0].steps.at(0)) == std::vector{ActionKind::start});
    CHECK(kinds(wip.waves[1].steps.at(0)) == std::vector{ActionKind::build, ActionKind::start});
    CHECK(action_of(wip, "db", ActionKind::start).reason == "bootstrap");
    CHECK(action_of(wip, "api", ActionKind::build).reason == "bootstrap");

    const tandem::Error refused = plan_error(spec, nothing, "harness");
    CHECK(refused.code == tandem::ErrorCode::bootstrap_required);
    CHECK(refused.message ==
          "nothing is running: bringing up all 2 services from scratch under policy 'harness' needs --bootstrap "
          "(it is recorded as an incident)");

    PlanRequest flagged;
    flagged.bootstrap = true;
    const Plan harness = plan_ok(spec, nothing, "harness", flagged);
    CHECK(harness.bootstrap);
    CHECK(harness.incident);
    CHECK(harness.action_count() == 3);

    // The flag changes nothing where the policy allows bootstraps anyway.
    const Plan wip_flagged = plan_ok(spec, nothing, "wip", flagged);
    CHECK(wip_flagged.bootstrap);
    CHECK_FALSE(wip_flagged.incident);
}

TEST_CASE("seed row 'reset the database': database.reset allow vs deny") {
    ServiceSpec db = service("db");
    db.reset = tandem::ResetSpec{"dropdb shop && createdb shop", {}};
    const Spec spec = spec_of({db, service("api", {"db"}), service("web", {"api"}), service("mail")});
    const Observed observed = running(spec, {"db", "api", "web", "mail"});
    PlanRequest request;
    request.reset = {"db"};

    const Plan wip = plan_ok(spec, observed, "wip", request);
    REQUIRE(wip.waves.size() == 3);
    REQUIRE(wip.waves[0].steps.size() == 1);
    const tandem::Step& db_step = wip.waves[0].steps[0];
    CHECK(db_step.service == "db");
    CHECK(kinds(db_step) == std::vector{ActionKind::reset, ActionKind::replace});
    CHECK(db_step.actions[0].command == "dropdb shop && createdb shop");
    CHECK(db_step.actions[0].reason == "reset requested");
    for (const char* dependent : {"api", "web"}) {
        CAPTURE(dependent);
        CHECK(action_of(wip, dependent, ActionKind::replace).reason == "dependency 'db' was reset");
    }
    CHECK(wip.waves[1].steps.at(0).service == "api");
    CHECK(wip.waves[2].steps.at(0).service == "web");
    CHECK(wip.action_count() == 4);  // mail depends on nothing reset: untouched

    const tandem::Error refused = plan_error(spec, observed, "harness", request);
    CHECK(refused.code == tandem::ErrorCode::policy_denied);
    CHECK(refused.message == "policy 'harness' denies database.reset: service 'db' was not reset; nothing was touched");
}

TEST_CASE("seed row 'sacrifice correctness for faster updates': updates.live sync vs build and replace") {
    ServiceSpec web = built("web");
    web.watch = {tandem::WatchRule{{"web/static/**"}, tandem::WatchAction::sync, "", {}, {}}};
    const Spec spec = spec_of({web});
    const Observed observed = running(spec, {"web"});
    PlanRequest request;
    request.changed_paths = {"web/static/site.css"};

    const Plan wip = plan_ok(spec, observed, "wip", request);
    REQUIRE(wip.waves.size() == 1);
    REQUIRE(wip.waves[0].steps.size() == 1);
    CHECK(kinds(wip.waves[0].steps[0]) == std::vector{ActionKind::sync});
    const Action& sync = wip.waves[0].steps[0].actions[0];
    CHECK(sync.paths == std::vector<std::string>{"web/static/site.css"});
    CHECK(sync.reason == "web/static/site.css changed");

    const Plan harness = plan_ok(spec, observed, "harness", request);
    REQUIRE(harness.waves.size() == 1);
    CHECK(kinds(harness.waves[0].steps.at(0)) == std::vector{ActionKind::build, ActionKind::replace});
    CHECK(action_of(harness, "web", ActionKind::build).paths == std::vector<std::string>{"web/static/site.css"});
    CHECK(action_of(harness, "web", ActionKind::replace).reason == "web/static/site.css changed");
}

TEST_CASE("seed row 'sacrifice correctness for faster updates': updates.cancel_in_flight") {
    const Spec spec = spec_of({built("web")});
    const Observed observed = running(spec, {"web"});
    PlanRequest request;
    request.changed_paths = {"web/src/main.c"};
    CHECK(action_of(plan_ok(spec, observed, "wip", request), "web", ActionKind::build).cancellable);
    CHECK_FALSE(action_of(plan_ok(spec, observed, "harness", request), "web", ActionKind::build).cancellable);
}

TEST_CASE("seed row 'security is not a concern': security.strict redacts secrets") {
    ServiceSpec db = service("db");
    db.port = 5432;
    ServiceSpec api = service("api", {"db"});
    api.env = {{"DB_URL", "postgres://localhost:${services.db.port}/shop"},
               {"DB_PASSWORD", "hunter2"},
               {"stripe_api_key", "sk_live_1"},
               {"GITHUB_TOKEN", "ghp_x"},
               {"AWS_CREDENTIALS", "a:b"},
               {"CLIENT_SECRET", "s"},
               {"LOG_LEVEL", "debug"}};
    const Spec spec = spec_of({db, api});
    const Observed observed = running(spec, {"db"});

    using Env = std::vector<std::pair<std::string, std::string>>;
    const Env wip_env = action_of(plan_ok(spec, observed, "wip"), "api", ActionKind::start).env;
    CHECK(wip_env == Env{{"DB_URL", "postgres://localhost:5432/shop"},
                         {"DB_PASSWORD", "hunter2"},
                         {"stripe_api_key", "sk_live_1"},
                         {"GITHUB_TOKEN", "ghp_x"},
                         {"AWS_CREDENTIALS", "a:b"},
                         {"CLIENT_SECRET", "s"},
                         {"LOG_LEVEL", "debug"}});
    const Env harness_env = action_of(plan_ok(spec, observed, "harness"), "api", ActionKind::start).env;
    CHECK(harness_env == Env{{"DB_URL", "postgres://localhost:5432/shop"},
                             {"DB_PASSWORD", "<redacted>"},
                             {"stripe_api_key", "<redacted>"},
                             {"GITHUB_TOKEN", "<redacted>"},
                             {"AWS_CREDENTIALS", "<redacted>"},
                             {"CLIENT_SECRET", "<redacted>"},
                             {"LOG_LEVEL", "debug"}});
}

TEST_CASE("seed row 'stars in all your RBAC rules': security.deny_wildcards") {
    NewApi input;
    input.spec.roles = {tandem::AccessRole{"viewer", {"status", "logs"}, {"tandem.yaml", 9, 5}},
                        tandem::AccessRole{"ops", {"status", "*"}, {"tandem.yaml", 12, 5}}};

    const Plan wip = plan_ok(input.spec, input.observed, "wip");
    CHECK(wip.action_count() == 2);

    const tandem::Error refused = plan_error(input.spec, input.observed, "harness");
    CHECK(refused.code == tandem::ErrorCode::policy_denied);
    CHECK(refused.location.file == "tandem.yaml");
    CHECK(refused.location.line == 12);
    CHECK(refused.location.column == 5);
    CHECK(refused.message.find("'ops'") != std::string::npos);
    CHECK(refused.message.find("security.deny_wildcards") != std::string::npos);
    CHECK(refused.message.find("policy 'harness'") != std::string::npos);
    CHECK(refused.message.find("list the actions") != std::string::npos);

    // A role without "*" passes under both.
    input.spec.roles.pop_back();
    CHECK(plan_ok(input.spec, input.observed, "harness").action_count() == 2);
}

TEST_CASE("seed row 'audit records of every change': audit.enabled") {
    NewApi input;
    CHECK_FALSE(plan_ok(input.spec, input.observed, "wip").audit_path.has_value());
    const Plan harness = plan_ok(input.spec, input.observed, "harness");
    REQUIRE(harness.audit_path.has_value());
    CHECK(*harness.audit_path == "audit.jsonl");
}

TEST_CASE("seed row 'only one update at a time': updates.max_parallel unbounded vs 1") {
    const Spec spec = spec_of({built("a"), built("b"), built("c")});
    const Observed observed = running(spec, {"a", "b", "c"});
    PlanRequest request;
    request.changed_paths = {"a/src/x.c", "b/src/x.c", "c/src/x.c"};

    const Plan wip = plan_ok(spec, observed, "wip", request);
    CHECK(wip.max_parallel == 0);
    REQUIRE(wip.waves.size() == 1);
    REQUIRE(wip.waves[0].steps.size() == 3);
    CHECK(wip.waves[0].steps[0].service == "a");
    CHECK(wip.waves[0].steps[1].service == "b");
    CHECK(wip.waves[0].steps[2].service == "c");

    const Plan harness = plan_ok(spec, observed, "harness", request);
    CHECK(harness.max_parallel == 1);
    REQUIRE(harness.waves.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        REQUIRE(harness.waves[i].steps.size() == 1);
        CHECK(harness.waves[i].steps[0].service == std::string(1, static_cast<char>('a' + i)));
        CHECK(kinds(harness.waves[i].steps[0]) == std::vector{ActionKind::build, ActionKind::replace});
    }
}

TEST_CASE("seed row 'rolling restarts': rollout.strategy recreate vs rolling") {
    ChangedApi input;
    const Plan wip_plan = plan_ok(input.spec, input.observed, "wip");
    const Action& wip = action_of(wip_plan, "api", ActionKind::replace);
    REQUIRE(wip.rollout.has_value());
    CHECK(wip.rollout->strategy == tandem::RolloutStrategy::recreate);
    CHECK_FALSE(wip.rollout->health_gate);

    const Plan harness_plan = plan_ok(input.spec, input.observed, "harness");
    const Action& harness = action_of(harness_plan, "api", ActionKind::replace);
    REQUIRE(harness.rollout.has_value());
    CHECK(harness.rollout->strategy == tandem::RolloutStrategy::rolling);
    CHECK(harness.rollout->max_surge == 1);
    CHECK(harness.rollout->max_unavailable == 0);
    CHECK(harness.rollout->health_gate);
    CHECK(harness.rollout->gate_timeout == tandem::Duration{60000});
    CHECK(harness.rollout->drain_timeout == tandem::Duration{30000});
}

TEST_CASE("seed row 'rollbacks': history.keep 0 vs 10") {
    const tandem::Status wip = tandem::check_rollback_allowed(policy("wip"));
    REQUIRE_FALSE(wip.ok());
    CHECK(wip.error().code == tandem::ErrorCode::policy_denied);
    CHECK(wip.error().message ==
          "policy 'wip' keeps no deployed revisions (history.keep: 0): there is nothing to roll back to");
    CHECK(tandem::check_rollback_allowed(policy("harness")).ok());

    NewApi input;
    CHECK(plan_ok(input.spec, input.observed, "wip").history_keep == 0);
    CHECK(plan_ok(input.spec, input.observed, "harness").history_keep == 10);
}

TEST_CASE("seed row 'automatic reverts if too many errors': auto_revert") {
    ChangedApi input;
    CHECK_FALSE(action_of(plan_ok(input.spec, input.observed, "wip"), "api", ActionKind::replace).auto_revert);
    CHECK(action_of(plan_ok(input.spec, input.observed, "harness"), "api", ActionKind::replace).auto_revert);
}

TEST_CASE("seed row 'immutable containers for security': artifacts.immutable") {
    NewApi input;
    const Plan wip = plan_ok(input.spec, input.observed, "wip");
    CHECK_FALSE(action_of(wip, "api", ActionKind::build).immutable);
    CHECK_FALSE(action_of(wip, "api", ActionKind::start).verify_digest);
    const Plan harness = plan_ok(input.spec, input.observed, "harness");
    CHECK(action_of(harness, "api", ActionKind::build).immutable);
    CHECK(action_of(harness, "api", ActionKind::start).verify_digest);

    ChangedApi changed;
    CHECK_FALSE(action_of(plan_ok(changed.spec, changed.observed, "wip"), "api", ActionKind::replace).verify_digest);
    CHECK(action_of(plan_ok(changed.spec, changed.observed, "harness"), "api", ActionKind::replace).verify_digest);
}

namespace {

// db runs; web, a container service that mounts `volume`, is new.
struct NewContainer {
    Spec spec;
    Observed observed;
    explicit NewContainer(const std::string& volume) {
        ServiceSpec web = service("web", {"db"});
        web.run = {};
        tandem::ContainerSpec container;
        container.image = "web:1";
        tandem::VolumeSpec mount;
        mount.kind = volume[0] == '.' ? tandem::VolumeSpec::Kind::bind : tandem::VolumeSpec::Kind::named;
        mount.source = volume.substr(0, volume.find(':'));
        mount.target = volume.substr(volume.find(':') + 1);
        mount.text = volume;
        mount.location = tandem::SourceLocation{"tandem.yaml", 9, 17};
        container.volumes.push_back(mount);
        web.container = container;
        spec = spec_of({service("db"), web});
        observed = running(spec, {"db"});
    }
};

}  // namespace

TEST_CASE("seed row 'immutable containers for security': containers.bind_mounts and containers.pin_digests") {
    const NewContainer bind("./src:/app/src");
    const Plan wip = plan_ok(bind.spec, bind.observed, "wip");
    const Action& start = action_of(wip, "web", ActionKind::start);
    REQUIRE(start.container);
    CHECK(start.container->image == "web:1");
    CHECK_FALSE(start.pin_digest);

    const tandem::Error refused = plan_error(bind.spec, bind.observed, "harness");
    CHECK(refused.code == tandem::ErrorCode::policy_denied);
    CHECK(refused.to_string() ==
          "tandem.yaml:9:17: service 'web' mounts the host directory './src' (volume './src:/app/src'), which policy "
          "'harness' refuses (containers.bind_mounts: deny): its containers see only their image and named volumes; "
          "use a named volume (NAME:/app/src) or build the files into the image");

    const NewContainer named("data:/data");
    const Plan harness = plan_ok(named.spec, named.observed, "harness");
    CHECK(action_of(harness, "web", ActionKind::start).pin_digest);
    CHECK(action_of(harness, "web", ActionKind::start).container->volumes.at(0).source == "data");
}
