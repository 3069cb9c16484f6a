// New services wait for dependencies that run but do not serve (a crashed cache, a job that has
// not completed), and say why; those that serve, or start in the same plan, hold nothing back.
#include <tandem/plan.hpp>

#include <doctest/doctest.h>

#include "plan/plan_builders.hpp"

using namespace tandem::test;  // the builders
using tandem::ServiceState;

namespace {

std::vector<std::string> planned(const tandem::Plan& plan) {
    std::vector<std::string> names;
    for (const auto& wave : plan.waves)
        for (const auto& step : wave.steps) names.push_back(step.service);
    return names;
}

}  // namespace

TEST_CASE("waiting: a new service whose dependency runs but is crashed is not started, and the plan says why") {
    const auto spec = spec_of({service("cache"), service("web", {"cache"}), service("worker", {"web"})});
    auto observed = running(spec, {"cache"});
    observed.services["cache"].state = ServiceState::crashed;
    observed.services["cache"].last_error = "replica 1 was not healthy within 30s";
    const auto plan = plan_ok(spec, observed);
    CHECK(planned(plan).empty());
    REQUIRE(plan.waiting.size() == 2);
    CHECK(plan.waiting[0].service == "web");
    CHECK(plan.waiting[0].dependency == "cache");
    CHECK(plan.waiting[0].reason == "'cache' is crashed: replica 1 was not healthy within 30s");
    CHECK(plan.waiting[1].service == "worker");
    CHECK(plan.waiting[1].reason.find("'web' waits too") == 0);
    CHECK(tandem::format_table(plan).find("waiting: web starts once 'cache' is crashed") != std::string::npos);
    CHECK(tandem::to_json(plan).find("\"waiting\"") != std::string::npos);
}

TEST_CASE("waiting: a dependency that serves, degraded included, or a completed job, holds nothing back") {
    const auto spec = spec_of({service("db"), service("migrate", {"db"}), service("web", {"migrate"})});
    auto observed = running(spec, {"db", "migrate"});
    observed.services["db"].state = ServiceState::degraded;
    observed.services["migrate"].state = ServiceState::completed;
    const auto plan = plan_ok(spec, observed);
    CHECK(planned(plan) == std::vector<std::string>{"web"});
    CHECK(plan.waiting.empty());
}

TEST_CASE("waiting: a job that still runs holds its dependents back until it completes") {
    const auto spec = spec_of({service("migrate"), service("web", {"migrate"})});
    auto observed = running(spec, {"migrate"});
    observed.services["migrate"].state = ServiceState::starting;
    const auto plan = plan_ok(spec, observed);
    CHECK(planned(plan).empty());
    REQUIRE(plan.waiting.size() == 1);
    CHECK(plan.waiting[0].reason == "'migrate' is starting");
}

TEST_CASE("waiting: a dependency started or replaced in the same plan orders by waves instead") {
    const auto spec = spec_of({service("cache"), service("web", {"cache"})});
    const auto plan = plan_ok(spec, {});
    CHECK(planned(plan) == std::vector<std::string>{"cache", "web"});
    CHECK(plan.waiting.empty());
}
