// ServiceStatus::errors end to end, with real test services: crashes, failed probes, failed
// health gates and connections the proxy could not serve, counted since the runtime started.
#include <doctest/doctest.h>

#include "runtime/runtime_fixture.hpp"
#include "support/http_client.hpp"

#include <filesystem>

using namespace std::chrono_literals;
using namespace tandem::test;  // the runtime fixture, http_get, eventually

namespace {

tandem::ErrorCounts errors_of(tandem::Executor& runtime) {
    const auto status = runtime.status();
    REQUIRE(status.size() == 1);
    return status[0].errors;
}

// wip, but every start and replace waits for health, giving up on a replica that is not
// healthy within 500ms.
const std::string kQuickGate = "  quick:\n    from: wip\n    rollout:\n      health_gate: true\n"
                               "      gate_timeout: 500ms\n";

}  // namespace

TEST_CASE("errors: each crash counts, and the count survives the next rollout") {
    const std::string service = "  flaky:\n    run: [" + std::string(TANDEM_TEST_SERVICE);
    Project project(service + ", --exit-after, '100']\n", "wip");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    REQUIRE(plan_and_apply(*runtime, project.loaded).ok());
    REQUIRE(eventually([&] { return errors_of(*runtime).crashes >= 2; }, 5000ms));

    project.rewrite(service + "]\n", "wip");  // it stays up now
    auto applied = plan_and_apply(*runtime, project.loaded);
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());
    const auto errors = errors_of(*runtime);
    CHECK(errors.crashes >= 2);
    CHECK(errors.total() == errors.crashes);
    CHECK(runtime->status()[0].restarts == 0);  // restarts, unlike errors, start over with each plan
}

TEST_CASE("errors: a replica that is not healthy within the gate timeout counts as a failed gate") {
    const int port = free_port();
    Project project(service_yaml("api", port, "v1", 1, ", --fail-health"), "quick", kQuickGate);
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    auto applied = plan_and_apply(*runtime, project.loaded);
    REQUIRE_FALSE(applied.ok());
    CHECK(applied.error().message.find("was not healthy within 500ms") != std::string::npos);
    auto errors = errors_of(*runtime);
    CHECK(errors.failed_gates == 1);
    CHECK(errors.probe_failures == 0);  // it was never healthy: still starting, the gate judges it
    CHECK(errors.crashes == 0);         // discarded, not crashed

    project.rewrite(service_yaml("api", port, "v2", 1), "quick", kQuickGate);
    applied = plan_and_apply(*runtime, project.loaded);
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());
    CHECK(http_get(port, "/version")->body == "v2\n");
    errors = errors_of(*runtime);
    CHECK(errors.failed_gates == 1);
    CHECK(errors.total() == 1);
}

TEST_CASE("errors: failed probes of a replica that had been healthy count, one per failed result") {
    Project project("  worker:\n    run: [" + std::string(TANDEM_TEST_SERVICE) +
                        "]\n    health:\n      exec: test -f healthy\n      interval: 50ms\n"
                        "      failure_threshold: 2\n",
                    "wip");
    project.dir.write("healthy", "");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    auto applied = plan_and_apply(*runtime, project.loaded);
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());
    CHECK(errors_of(*runtime).probe_failures == 0);

    std::filesystem::remove(project.dir.path() / "healthy");
    REQUIRE(eventually([&] { return runtime->status()[0].state == tandem::ServiceState::degraded; }, 3000ms));
    CHECK(errors_of(*runtime).probe_failures >= 2);  // failure_threshold of them made it unhealthy
    CHECK(eventually([&] { return errors_of(*runtime).probe_failures >= 4; }, 3000ms));  // and they go on
    CHECK(errors_of(*runtime).crashes == 0);
}

TEST_CASE("errors: a connection the proxy cannot hand to any replica counts as a proxy error") {
    const int port = free_port(), elsewhere = free_port();
    // The replica passes its probe but listens on another port than its own: every connection
    // the proxy forwards to it is refused.
    Project project("  api:\n    run: [" + std::string(TANDEM_TEST_SERVICE) + ", --port, '" +
                        std::to_string(elsewhere) + "']\n    port: " + std::to_string(port) +
                        "\n    health:\n      exec: \"true\"\n      interval: 100ms\n",
                    "wip");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    auto applied = plan_and_apply(*runtime, project.loaded);
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());
    CHECK(errors_of(*runtime).proxy_errors == 0);

    CHECK_FALSE(http_get(port, "/version", 2000ms).has_value());
    CHECK(eventually([&] { return errors_of(*runtime).proxy_errors == 1; }, 2000ms));
    CHECK_FALSE(http_get(port, "/version", 2000ms).has_value());
    CHECK(eventually([&] { return errors_of(*runtime).proxy_errors == 2; }, 2000ms));
    CHECK(errors_of(*runtime).total() == 2);
}
