// Executor::apply's options end to end, with real test services: another root for one
// plan's builds and replicas, and the artifact check before every replica start.
#include <doctest/doctest.h>

#include <future>

#include "runtime/runtime_fixture.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tandem::test;  // the runtime fixture, http_get, eventually

namespace {

const std::string kFirst = "sha256:1a2b3c4d" + std::string(56, '0');
const std::string kSecond = "sha256:5e6f7a8b" + std::string(56, '1');

tandem::PlanRequest with_artifact(const std::string& service, const std::string& digest) {
    tandem::PlanRequest request;
    request.artifacts = {{service, digest}};
    return request;
}

// A verifier for ApplyOptions that records its calls, as (service, digest), and answers the
// n-th call (from 1) with answer(n). Called on the runtime's loop thread.
struct Verifier {
    explicit Verifier(std::function<tandem::Status(std::size_t call)> answer_with) : answer(std::move(answer_with)) {}

    tandem::ApplyOptions options() {
        tandem::ApplyOptions options;
        options.verify_artifact = [this](const std::string& service, const std::string& digest) {
            std::lock_guard lock(mutex);
            seen.emplace_back(service, digest);
            return answer(seen.size());
        };
        return options;
    }
    std::size_t count() {
        std::lock_guard lock(mutex);
        return seen.size();
    }
    std::pair<std::string, std::string> call(std::size_t index) {
        std::lock_guard lock(mutex);
        return seen.at(index);
    }

    std::function<tandem::Status(std::size_t call)> answer;
    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> seen;
};

tandem::Status modified(const std::string& what) { return tandem::make_error(tandem::ErrorCode::io, what); }

bool any_contains(const std::vector<std::string>& texts, const std::string& part) {
    for (const auto& text : texts)
        if (text.find(part) != std::string::npos) return true;
    return false;
}

const tandem::ServiceStatus* find_status(const std::vector<tandem::ServiceStatus>& all, const std::string& name) {
    for (const auto& s : all)
        if (s.name == name) return &s;
    return nullptr;
}

}  // namespace

TEST_CASE("apply with options.root builds there and runs the replicas in root/workdir, for that plan only") {
    const int port = free_port();
    Project project("  web:\n    workdir: app\n    build: echo built > built.txt\n    run: [" +
                        std::string(TANDEM_TEST_SERVICE) + ", --port, \"${port}\", --version-file, version.txt]\n" +
                        "    port: " + std::to_string(port) + "\n",
                    "wip");
    project.dir.write("app/version.txt", "from-project\n");
    TempDir release;
    release.write("app/version.txt", "from-release\n");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);

    tandem::ApplyOptions options;
    options.root = release.path();
    auto applied = plan_and_apply(*runtime, project.loaded, {}, options);
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());
    CHECK(http_get(port, "/version")->body == "from-release\n");
    CHECK(fs::exists(release.path() / "app/built.txt"));
    CHECK_FALSE(fs::exists(project.dir.path() / "app/built.txt"));

    // The next plan without a root runs in the project root again.
    tandem::PlanRequest again;
    again.trigger = {"web"};
    applied = plan_and_apply(*runtime, project.loaded, again);
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());
    CHECK(http_get(port, "/version")->body == "from-project\n");
    CHECK(fs::exists(project.dir.path() / "app/built.txt"));
}

TEST_CASE("a verifier's error refuses the start: apply fails with its message and nothing of the service runs") {
    const int port = free_port();
    Project project(service_yaml("api", port, "v1", 2), "wip");
    Verifier verifier([](std::size_t) { return modified("artifact was modified: bin/api changed"); });
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);

    auto applied = plan_and_apply(*runtime, project.loaded, with_artifact("api", kFirst), verifier.options());
    REQUIRE_FALSE(applied.ok());
    CHECK(applied.error().message.find("artifact was modified: bin/api changed") != std::string::npos);
    REQUIRE(verifier.count() >= 1);
    CHECK(verifier.call(0) == std::make_pair(std::string("api"), kFirst));

    const auto status = runtime->status();
    const auto* api = find_status(status, "api");
    REQUIRE(api != nullptr);
    CHECK(api->replicas.empty());
    CHECK(api->last_error.find("was modified") != std::string::npos);
    CHECK(runtime->observe().services.at("api").replicas == 0);
    CHECK(any_contains(events.texts("api"), "not starting replica"));
    CHECK(any_contains(events.texts("api"), "was modified: bin/api changed"));
}

TEST_CASE("the artifact digest shows in status() and observe() - the same one plans nothing, a new one replaces") {
    const int port = free_port();
    Project project(service_yaml("api", port, "v1", 1), "wip");
    Verifier verifier([](std::size_t) { return tandem::Status(tandem::Ok{}); });
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);

    auto applied = plan_and_apply(*runtime, project.loaded, with_artifact("api", kFirst), verifier.options());
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());
    CHECK(verifier.count() == 1);
    REQUIRE(runtime->status().size() == 1);
    CHECK(runtime->status()[0].artifact_digest == kFirst);
    const auto observed = runtime->observe();
    CHECK(observed.services.at("api").artifact_digest == kFirst);
    const int first_pid = pid_of(runtime->status()[0].replicas.at(0));

    auto same = tandem::make_plan(project.loaded.spec, observed, project.loaded.policy, with_artifact("api", kFirst));
    REQUIRE(same.ok());
    CHECK(same->empty());

    applied = plan_and_apply(*runtime, project.loaded, with_artifact("api", kSecond), verifier.options());
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());
    REQUIRE(verifier.count() == 2);
    CHECK(verifier.call(1).second == kSecond);
    CHECK(runtime->status()[0].artifact_digest == kSecond);
    CHECK(runtime->observe().services.at("api").artifact_digest == kSecond);
    CHECK(pid_of(runtime->status()[0].replicas.at(0)) != first_pid);
    // wip does not gate a replace on health: the new replica may still be starting.
    CHECK(eventually([&] { auto r = http_get(port, "/version", 300ms); return r && r->body == "v1\n"; }, 5000ms));
}

TEST_CASE("the verifier runs again before each crash restart - once it fails, the replica stays down") {
    // Exits on its own 300ms after each start; wip restarts it after 100ms, then 200ms.
    Project project("  flaky:\n    run: [" + std::string(TANDEM_TEST_SERVICE) +
                        ", --exit-after, '300', --exit-code, '7']\n",
                    "wip");
    Verifier verifier([](std::size_t call) {
        return call <= 2 ? tandem::Status(tandem::Ok{}) : modified("artifact was modified since it was stored");
    });
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    auto applied = plan_and_apply(*runtime, project.loaded, with_artifact("flaky", kFirst), verifier.options());
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());
    CHECK(verifier.count() == 1);

    REQUIRE(eventually([&] { return verifier.count() >= 3; }, 5000ms));
    CHECK(eventually([&] { return any_contains(events.texts("flaky"), "artifact was modified since it was stored"); },
                     2000ms));
    std::this_thread::sleep_for(700ms);  // longer than the next backoff: no further attempt
    CHECK(verifier.count() == 3);
    const auto status = runtime->status();
    REQUIRE(status.size() == 1);
    CHECK(status[0].replicas.empty());
    CHECK(status[0].state == tandem::ServiceState::crashed);
    CHECK(status[0].errors.crashes == 2);
    CHECK(status[0].last_error.find("artifact was modified") != std::string::npos);
}

TEST_CASE("status() shows a service as building while its build runs, a new service included") {
    const int port = free_port();
    Project project("  web:\n    build: sleep 1\n    run: [" + std::string(TANDEM_TEST_SERVICE) +
                        ", --port, \"${port}\"]\n    port: " + std::to_string(port) + "\n",
                    "wip");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    auto first = std::async(std::launch::async, [&] { return plan_and_apply(*runtime, project.loaded); });
    CHECK(eventually(
        [&] {
            const auto* web = find_status(runtime->status(), "web");
            return web && web->state == tandem::ServiceState::building;
        },
        5000ms));
    CHECK(runtime->observe().services.count("web") == 0);  // not running yet: the planner still starts it
    REQUIRE(first.get().ok());
    CHECK(find_status(runtime->status(), "web")->state == tandem::ServiceState::ready);

    tandem::PlanRequest again;
    again.trigger = {"web"};
    auto second = std::async(std::launch::async, [&] { return plan_and_apply(*runtime, project.loaded, again); });
    CHECK(eventually(
        [&] {
            const auto* web = find_status(runtime->status(), "web");
            return web && web->state == tandem::ServiceState::building && web->replicas.size() == 1;
        },
        5000ms));
    REQUIRE(second.get().ok());
    const auto* web = find_status(runtime->status(), "web");
    REQUIRE(web);
    CHECK(web->state == tandem::ServiceState::ready);
    CHECK(web->replicas.front().started.time_since_epoch().count() > 0);
}
