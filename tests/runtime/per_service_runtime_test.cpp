// PerServiceRuntime under the real Executor, over two fake runtimes on one loop: each service's
// replicas, traffic, probes, commands and stops go to the runtime of its kind.
#include <doctest/doctest.h>

#include "runtime/runtime_fixture.hpp"
#include "support/fake_runtime.hpp"

#include <tandem/executor.hpp>
#include <tandem/per_service_runtime.hpp>
#include <tandem/plan.hpp>

#include <algorithm>

using namespace tandem::test;
using tandem::Duration;

namespace {

constexpr const char* kMixed = "  api:\n    build: make api\n    run: [fake-api]\n    port: 18080\n    replicas: 2\n"
                               "    health: {http: /healthz}\n"
                               "  web:\n    image: web:1\n    port: 18081\n    health: {http: /healthz}\n"
                               "    reset: rm -rf /data/*\n    volumes: [data:/data]\n";

// A process fake and a container fake on its loop, both owned by one PerServiceRuntime that an
// Executor drives.
struct MixedEngine {
    FakeRuntime* process = nullptr;
    FakeRuntime* container = nullptr;
    std::unique_ptr<tandem::Executor> executor;

    MixedEngine(const std::filesystem::path& root, bool with_container) {
        auto process_runtime = std::make_unique<FakeRuntime>();
        process = process_runtime.get();
        std::unique_ptr<FakeRuntime> container_runtime;
        if (with_container) container_runtime = std::make_unique<FakeRuntime>(*process, "docker");
        container = container_runtime.get();
        auto runtime = tandem::PerServiceRuntime::make(std::move(process_runtime), std::move(container_runtime));
        REQUIRE_MESSAGE(runtime.ok(), runtime.error().to_string());
        CHECK((*runtime)->name() == (with_container ? "fake+docker" : "fake"));
        tandem::ExecutorOptions options;
        options.project_root = root;
        options.state_dir = root / ".tandem";
        auto started = tandem::Executor::start(std::move(*runtime), options, [](const tandem::RuntimeEvent&) {});
        REQUIRE_MESSAGE(started.ok(), started.error().to_string());
        executor = std::move(*started);
    }

    tandem::ServiceStatus status(const std::string& service) const {
        for (auto& s : executor->status())
            if (s.name == service) return s;
        return {};
    }
};

bool mentions(const std::vector<std::string>& journal, const std::string& text) {
    return std::any_of(journal.begin(), journal.end(),
                       [&](const std::string& line) { return line.find(text) != std::string::npos; });
}

}  // namespace

TEST_CASE("per-service runtime: each service starts, serves, is probed and stops on the runtime of its kind") {
    Project project(kMixed, "wip");
    MixedEngine engine(project.dir.path(), true);
    auto applied = plan_and_apply(*engine.executor, project.loaded);
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());

    CHECK(engine.process->running("api").size() == 2);
    CHECK(engine.process->running("web").empty());
    REQUIRE(engine.container->running("web").size() == 1);
    CHECK(engine.container->running("api").empty());
    CHECK(engine.process->routed("api") == engine.process->running("api"));
    CHECK(engine.container->routed("web") == engine.container->running("web"));
    const auto launched = engine.container->replicas();
    REQUIRE(launched.size() == 1);
    REQUIRE(launched[0].launch.service.container);
    CHECK(launched[0].launch.service.container->image == "web:1");
    // The build ran on the process runtime; the container runtime ran no command.
    const auto commands = engine.process->commands();
    REQUIRE(commands.size() == 1);
    CHECK(commands[0].launch.service == "api");
    CHECK(engine.container->commands().empty());

    // A fake answers probes of replicas it started only: both services turn healthy only if
    // each probe went to the runtime that started the replica.
    engine.process->advance(Duration(3000));
    for (const char* name : {"api", "web"}) {
        CAPTURE(name);
        const auto status = engine.status(name);
        CHECK(status.state == tandem::ServiceState::ready);
        REQUIRE_FALSE(status.replicas.empty());
        for (const auto& replica : status.replicas) CHECK(replica.health == tandem::Health::healthy);
    }
    // A command of the container service (its reset) runs on the container runtime.
    tandem::PlanRequest reset;
    reset.reset = {"web"};
    auto reset_applied = plan_and_apply(*engine.executor, project.loaded, reset);
    REQUIRE_MESSAGE(reset_applied.ok(), reset_applied.error().to_string());
    const auto container_commands = engine.container->commands();
    REQUIRE(container_commands.size() == 1);
    CHECK(container_commands[0].launch.service == "web");
    CHECK(engine.process->commands().size() == 1);

    engine.container->set_healthy("web", false);
    engine.process->advance(Duration(5000));
    CHECK(engine.status("web").replicas.at(0).health == tandem::Health::unhealthy);
    CHECK(engine.status("api").replicas.at(0).health == tandem::Health::healthy);

    engine.executor->stop_all();
    const auto process_journal = engine.process->journal();
    const auto container_journal = engine.container->journal();
    CHECK(engine.process->running("api").empty());
    CHECK(engine.container->running("web").empty());
    CHECK(mentions(process_journal, "stop api"));
    CHECK_FALSE(mentions(process_journal, "web"));
    CHECK(mentions(container_journal, "stop web"));
    CHECK_FALSE(mentions(container_journal, "api"));
}

TEST_CASE("per-service runtime: without a container runtime a container service is refused, naming it and its image") {
    Project project(kMixed, "wip");
    MixedEngine engine(project.dir.path(), false);
    auto applied = plan_and_apply(*engine.executor, project.loaded);
    REQUIRE_FALSE(applied.ok());
    INFO(applied.error().to_string());
    CHECK(applied.error().message == "service 'web' runs an image, and this runtime has no container runtime beside "
                                     "its process runtime (tandem::make_local_runtime gives both)");
    CHECK(applied.error().location.line == 10);
    CHECK(engine.process->running("web").empty());

    const auto check = tandem::check_no_containers(project.loaded.spec);
    REQUIRE_FALSE(check.ok());
    CHECK(check.error().to_string().find("tandem.yaml:10:12: service 'web' runs an image") != std::string::npos);
}

TEST_CASE("per-service runtime: two runtimes on different loops are refused") {
    auto first = std::make_unique<FakeRuntime>();
    auto second = std::make_unique<FakeRuntime>();
    auto runtime = tandem::PerServiceRuntime::make(std::move(first), std::move(second));
    REQUIRE_FALSE(runtime.ok());
    CHECK(runtime.error().message.find("must share one event loop") != std::string::npos);
}
