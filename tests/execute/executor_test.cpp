// The executor over the fake runtime: supervision, rollouts, backoff, gates, builds and
// cancellation, step by step in virtual time, with no process and no socket.
#include <doctest/doctest.h>

#include "runtime/runtime_fixture.hpp"
#include "support/fake_engine.hpp"
#include "support/http_client.hpp"

#include <tandem/plan.hpp>

#include <algorithm>
#include <future>

using namespace std::chrono_literals;
using namespace tandem::test;
using tandem::Duration;

namespace {

// The executor over a fake runtime, its events kept.
struct Engine : Events, FakeEngine {
    explicit Engine(const std::filesystem::path& root)
        : FakeEngine(root, root / ".tandem", [this](const tandem::RuntimeEvent& e) { add(e); }) {}
};

// Applies in the background (a rollout that waits on virtual time needs the test to advance it).
std::future<tandem::Status> apply_async(Engine& engine, const tandem::Project& project,
                                        tandem::PlanRequest request = {}) {
    request.bootstrap = true;
    auto plan = tandem::make_plan(project.spec, engine.executor->observe(), project.policy, request);
    REQUIRE_MESSAGE(plan.ok(), plan.error().to_string());
    return std::async(std::launch::async, [&engine, &project, plan = *plan] {
        return engine.executor->apply(project.spec, project.policy, plan);
    });
}

bool wait_until(const std::function<bool()>& condition) {
    return eventually(condition, std::chrono::milliseconds(5000));
}

}  // namespace

TEST_CASE("executor on a fake runtime: a fresh start launches, probes and routes every replica") {
    Project project(fake_service("api", 18080, "v1", 2, "    workdir: srv\n"), "wip");
    project.dir.write("srv/.keep", "");
    Engine engine(project.dir.path());
    auto applied = plan_and_apply(*engine.executor, project.loaded);
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());

    CHECK(engine.fake->running("api").size() == 2);
    CHECK(engine.fake->routed("api") == engine.fake->running("api"));
    const auto launched = engine.fake->replicas();
    REQUIRE(launched.size() == 2);
    CHECK(launched[0].launch.artifact.kind == tandem::ArtifactKind::tree);
    CHECK(launched[0].launch.artifact.location == project.dir.path().string());
    CHECK(launched[0].launch.cwd == project.dir.path() / "srv");
    const auto status = engine.status("api");
    CHECK(status.state == tandem::ServiceState::ready);
    REQUIRE(status.replicas.size() == 2);
    for (const auto& r : status.replicas) {
        CHECK(r.health == tandem::Health::healthy);
        CHECK(r.handle.rfind("fake ", 0) == 0);
    }
}

TEST_CASE("executor on a fake runtime: a rolling replace never routes fewer replicas than max_unavailable allows") {
    Project project(fake_service("api", 18080, "v1", 3), "harness");
    Engine engine(project.dir.path());
    REQUIRE(plan_and_apply(*engine.executor, project.loaded).ok());
    const auto old_ids = engine.fake->running("api");
    REQUIRE(old_ids.size() == 3);

    project.rewrite(fake_service("api", 18080, "v2", 3), "harness");
    auto applied = plan_and_apply(*engine.executor, project.loaded);
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());

    // Replay the journal: harness has max_unavailable 0 and max_surge 1.
    int routed = 0, peak_alive = 0, alive = 0;
    int lowest_routed = 3;
    bool started_replace = false;
    for (const auto& line : engine.fake->journal()) {
        if (line.rfind("route ", 0) == 0) ++routed;
        if (line.rfind("unroute ", 0) == 0) --routed;
        if (line.rfind("start ", 0) == 0) ++alive;
        if (line.rfind("stop ", 0) == 0) --alive;
        started_replace = started_replace || alive > 3;
        if (started_replace) lowest_routed = std::min(lowest_routed, routed);
        peak_alive = std::max(peak_alive, alive);
    }
    CHECK(lowest_routed >= 3);
    CHECK(peak_alive == 4);  // one surge replica at a time
    const auto now_running = engine.fake->running("api");
    CHECK(now_running.size() == 3);
    for (int id : now_running) CHECK(std::find(old_ids.begin(), old_ids.end(), id) == old_ids.end());
    CHECK(engine.fake->routed("api") == now_running);
}

TEST_CASE("executor on a fake runtime: a crash is restarted after its backoff, and the backoff doubles") {
    // wip: crash.on_crash restart; backoff from crash.backoff_initial.
    Project project(fake_service("api", 18080, "v1", 1), "wip");
    Engine engine(project.dir.path());
    REQUIRE(plan_and_apply(*engine.executor, project.loaded).ok());
    const Duration initial = project.loaded.policy.crash.backoff_initial;
    REQUIRE(initial.count() > 1);

    const int first = engine.fake->running("api").at(0);
    engine.fake->exit_replica(first, 3);
    CHECK(engine.fake->running("api").empty());
    CHECK(engine.status("api").state == tandem::ServiceState::crashed);
    engine.fake->advance(initial - Duration(1));
    CHECK(engine.fake->running("api").empty());
    engine.fake->advance(Duration(1));
    REQUIRE(engine.fake->running("api").size() == 1);

    // It crashes at once again: the next wait is twice as long.
    engine.fake->exit_replica(engine.fake->running("api").at(0), 3);
    engine.fake->advance(initial);
    CHECK(engine.fake->running("api").empty());
    engine.fake->advance(initial);
    CHECK(wait_until([&] { return engine.fake->running("api").size() == 1; }));
    CHECK(engine.status("api").restarts == 2);
    CHECK(engine.status("api").errors.crashes == 2);
}

TEST_CASE("executor on a fake runtime: a new replica that never turns healthy fails at the gate and the old ones serve") {
    Project project(fake_service("api", 18080, "v1", 2), "harness");
    Engine engine(project.dir.path());
    REQUIRE(plan_and_apply(*engine.executor, project.loaded).ok());
    const auto old_ids = engine.fake->running("api");

    engine.fake->set_healthy("api", false);
    project.rewrite(fake_service("api", 18080, "v2", 2), "harness");
    auto applying = apply_async(engine, project.loaded);
    REQUIRE(wait_until([&] { return engine.fake->replicas().size() == 3; }));
    CHECK(applying.wait_for(0s) == std::future_status::timeout);
    engine.fake->advance(project.loaded.policy.rollout.gate_timeout + Duration(1));
    REQUIRE(applying.wait_for(5s) == std::future_status::ready);
    auto applied = applying.get();
    REQUIRE_FALSE(applied.ok());
    CHECK_MESSAGE(applied.error().message.find("was not healthy within") != std::string::npos, applied.error().message);
    CHECK(engine.fake->running("api") == old_ids);
    CHECK(engine.fake->routed("api") == old_ids);
    CHECK(engine.status("api").errors.failed_gates == 1);
}

TEST_CASE("executor on a fake runtime: under on_crash revert a crash in the window is not restarted") {
    Project project(fake_service("api", 18080, "v1", 1), "harness");
    Engine engine(project.dir.path());
    REQUIRE(plan_and_apply(*engine.executor, project.loaded).ok());
    engine.fake->exit_replica(engine.fake->running("api").at(0), 1);
    engine.fake->advance(project.loaded.policy.crash.backoff_max);
    CHECK(engine.fake->running("api").empty());
    bool said = false;
    for (const auto& text : engine.texts("api")) said = said || text.find("not restarting") != std::string::npos;
    CHECK(said);
}

TEST_CASE("executor on a fake runtime: a failed build fails the plan and starts nothing") {
    Project project(fake_service("api", 18080, "v1", 1, "    build:\n      command: make all\n"), "wip");
    Engine engine(project.dir.path());
    engine.fake->command_exit("make all", 2);
    auto applied = plan_and_apply(*engine.executor, project.loaded);
    REQUIRE_FALSE(applied.ok());
    CHECK_MESSAGE(applied.error().message.find("build of 'api' exited with code 2") != std::string::npos,
                  applied.error().message);
    CHECK(engine.fake->running("api").empty());
    const auto commands = engine.fake->commands();
    REQUIRE(commands.size() == 1);
    CHECK(commands[0].launch.kind == tandem::ActionKind::build);
    CHECK(commands[0].launch.user.empty());
}

TEST_CASE("executor on a fake runtime: cancel kills a hanging build and apply returns cancelled") {
    Project project(fake_service("api", 18080, "v1", 1, "    build:\n      command: make forever\n"), "wip");
    Engine engine(project.dir.path());
    engine.fake->command_hangs("forever");
    auto applying = apply_async(engine, project.loaded);
    REQUIRE(wait_until([&] { return engine.fake->commands().size() == 1; }));
    engine.executor->cancel();
    REQUIRE(applying.wait_for(5s) == std::future_status::ready);
    auto applied = applying.get();
    REQUIRE_FALSE(applied.ok());
    CHECK(applied.error().code == tandem::ErrorCode::cancelled);
    CHECK(wait_until([&] { return engine.fake->commands().at(0).killed; }));
    CHECK(engine.fake->running("api").empty());
}

TEST_CASE("executor on a fake runtime: a public port that cannot be opened is the service's error") {
    Project project(fake_service("api", 18080, "v1", 1), "wip");
    Engine engine(project.dir.path());
    engine.fake->refuse_port(18080);
    auto applied = plan_and_apply(*engine.executor, project.loaded);
    REQUIRE_FALSE(applied.ok());
    CHECK(engine.fake->replicas().empty());
    const auto status = engine.status("api");
    CHECK(status.state == tandem::ServiceState::crashed);
    CHECK_MESSAGE(status.last_error.find("Address already in use") != std::string::npos, status.last_error);
}
