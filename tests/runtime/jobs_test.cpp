// One-shot jobs (job: true): a migration runs to completion before what depends on it starts;
// one that fails holds its dependents and is tried again with backoff.
#include <doctest/doctest.h>

#include "runtime/runtime_fixture.hpp"
#include "support/http_client.hpp"

#include <tandem/plan.hpp>
#include <tandem/executor.hpp>

using namespace std::chrono_literals;
using namespace tandem::test;

namespace {

const std::string kService = TANDEM_TEST_SERVICE;

tandem::ServiceStatus status_of(tandem::Executor& runtime, const std::string& name) {
    for (auto& s : runtime.status())
        if (s.name == name) return s;
    return {};
}

}  // namespace

TEST_CASE("jobs: a job runs to completion before its dependent starts, and then nothing of it runs") {
    const int port = free_port();
    // web exits 1 at once unless the migration's file is there when it starts.
    Project project("  migrate:\n    job: true\n    run: sleep 0.5 && echo migrated > migrated.txt\n"
                    "  web:\n    run: test -f migrated.txt && exec " + kService + " --port ${port}\n    port: " +
                        std::to_string(port) + "\n    depends_on: [migrate]\n",
                    "wip");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    auto applied = plan_and_apply(*runtime, project.loaded);
    REQUIRE_MESSAGE(applied.ok(), (applied.ok() ? std::string() : applied.error().to_string()));
    CHECK(http_get(port, "/version").has_value());
    const auto migrate = status_of(*runtime, "migrate");
    CHECK(migrate.state == tandem::ServiceState::completed);
    CHECK(migrate.replicas.empty());
    CHECK(migrate.restarts == 0);
    CHECK(runtime->observe().services.at("migrate").serving());
    // The same spec again plans nothing: the job is not run twice.
    auto again = tandem::make_plan(project.loaded.spec, runtime->observe(), project.loaded.policy, {});
    REQUIRE(again.ok());
    CHECK(again->empty());
}

TEST_CASE("jobs: a failed job fails the plan before its dependents and is tried again until it succeeds") {
    const int port = free_port();
    Project project("  migrate:\n    job: true\n    run: \"echo 'ERROR: relation users does not exist' >&2; test -f ok\"\n"
                    "  web:\n    run: [" + kService + ", --port, \"${port}\"]\n    port: " +
                        std::to_string(port) + "\n    depends_on: [migrate]\n",
                    "wip");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    CHECK_FALSE(plan_and_apply(*runtime, project.loaded).ok());
    CHECK(status_of(*runtime, "web").name.empty());  // never started
    const auto failed = status_of(*runtime, "migrate");
    CHECK(failed.last_error.find("ERROR: relation") != std::string::npos);
    // While it fails, a plan holds web back and says why.
    auto held = tandem::make_plan(project.loaded.spec, runtime->observe(), project.loaded.policy, {});
    REQUIRE(held.ok());
    REQUIRE(held->waiting.size() == 1);
    CHECK(held->waiting[0].service == "web");
    project.dir.write("ok", "");
    CHECK(eventually([&] { return status_of(*runtime, "migrate").state == tandem::ServiceState::completed; }, 5000ms));
    CHECK(status_of(*runtime, "migrate").last_error.empty());
    CHECK(plan_and_apply(*runtime, project.loaded).ok());
    CHECK(http_get(port, "/version").has_value());
}
