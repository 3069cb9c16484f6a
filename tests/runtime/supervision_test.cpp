// Supervision as real apps meet it: a stop during a replace, exec probes that reach the replica,
// starts that fail and are tried again, saves under wip with clients connected, a save racing a
// pending crash restart, crash loops that say why, crashes after the revert window.
#include <doctest/doctest.h>

#include "runtime/runtime_fixture.hpp"
#include "support/http_client.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <tandem/plan.hpp>
#include <tandem/project.hpp>
#include <tandem/executor.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <set>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tandem::test;

namespace {

const std::string kService = TANDEM_TEST_SERVICE;

// Waits up to `timeout` for `pid` to exit; kills it (and reports false) when it does not.
bool exits_within(pid_t pid, std::chrono::milliseconds timeout, int* status) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (waitpid(pid, status, WNOHANG) == pid) return true;
        std::this_thread::sleep_for(20ms);
    }
    kill(pid, SIGKILL);
    waitpid(pid, status, 0);
    return false;
}

bool file_holds(const fs::path& dir, const std::string& needle) {
    std::error_code ec;
    for (const auto& entry : fs::recursive_directory_iterator(dir, ec))
        if (entry.is_regular_file() && read_text(entry.path()).find(needle) != std::string::npos) return true;
    return false;
}

// Every test_service process whose command line names `marker` (a unique argument).
std::vector<pid_t> processes_with(const std::string& marker) {
    std::vector<pid_t> pids;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string cmdline;
        try {
            cmdline = read_text(entry.path() / "cmdline");
        } catch (...) {
            continue;
        }
        if (cmdline.find(marker) != std::string::npos && alive(std::stoi(name))) pids.push_back(std::stoi(name));
    }
    return pids;
}

int replica_count(tandem::Executor& runtime, const std::string& service) {
    for (const auto& s : runtime.status())
        if (s.name == service) return static_cast<int>(s.replicas.size());
    return 0;
}

}  // namespace

TEST_CASE("devloop down while a replace waits for a slow SIGTERM returns, starts nothing more and leaves no replica") {
    const int port = free_port();
    TempDir dir;
    const std::string marker = "down-during-replace-" + std::to_string(port);
    dir.write("version.txt", "v1\n");
    dir.write("tandem.yaml", "version: 1\nservices:\n  web:\n    run: exec " + kService + " --port ${port} --term-delay 1500" +
                                 " --version-string $(cat version.txt) --stderr-line " + marker + "\n    port: " +
                                 std::to_string(port) + "\n    watch: [{paths: [version.txt], action: restart}]\n");
    const pid_t engine = start_devloop(dir.path(), true);
    REQUIRE(eventually([&] { auto r = http_get(port, "/version", 300ms); return r && r->body == "v1\n"; }, 10000ms));

    dir.write("version.txt", "v2\n");  // the old replica gets SIGTERM and takes 1.5 s to go
    REQUIRE(eventually([&] { return file_holds(dir.path() / ".tandem/logs", "test_service got SIGTERM"); }, 5000ms));
    const std::string file = (dir.path() / "tandem.yaml").string();
    auto down = run_command({TANDEM_DEVLOOP, "down", "-f", file});
    CHECK(down.exit_code == 0);
    int status = 0;
    const bool exited = exits_within(engine, 10000ms, &status);
    CHECK_MESSAGE(exited, ("devloop did not exit after down: " + read_text(dir.path() / "devloop.out")));
    std::vector<pid_t> left = processes_with(marker);
    for (pid_t pid : left) kill(pid, SIGKILL);
    CHECK_MESSAGE(left.empty(), "replicas left running after down");
    CHECK(processes_with(marker).empty());
}

TEST_CASE("a second stop signal while replicas take long to stop kills them at once") {
    const int port = free_port();
    TempDir dir;
    const std::string marker = "second-signal-" + std::to_string(port);
    dir.write("tandem.yaml", "version: 1\nservices:\n  web:\n    run: [" + kService +
                                 ", --port, \"${port}\", --ignore-sigterm, --stderr-line, " + marker + "]\n    port: " +
                                 std::to_string(port) + "\n    stop_grace: 60s\n");
    const pid_t engine = start_devloop(dir.path(), true);
    REQUIRE(eventually([&] { return http_get(port, "/version", 300ms).has_value(); }, 10000ms));
    kill(engine, SIGINT);  // the replica ignores SIGTERM: a graceful stop would take 60 s
    std::this_thread::sleep_for(300ms);
    kill(engine, SIGINT);
    int status = 0;
    const bool exited = exits_within(engine, 5000ms, &status);
    CHECK_MESSAGE(exited, ("devloop did not exit on the second SIGINT: " + read_text(dir.path() / "devloop.out")));
    std::vector<pid_t> left = processes_with(marker);
    for (pid_t pid : left) kill(pid, SIGKILL);
    CHECK(left.empty());
}

TEST_CASE("an exec probe runs with the replica's env and PORT, and ${port} is the replica's own port") {
    const int port = free_port();
    // bash's /dev/tcp reaches the replica itself: the public port would park the probe's
    // connection until a replica is healthy, which is what the probe is asking.
    Project project("  db:\n    run: [" + kService + ", --port, \"${port}\"]\n    port: " + std::to_string(port) +
                        "\n    env: {PROBE_SECRET: s3cret}\n    health:\n      exec: [bash, -c, 'test \"$PROBE_SECRET\" = s3cret "
                        "&& test \"$PORT\" = \"${port}\" && test \"$PORT\" != " + std::to_string(port) +
                        " && echo > /dev/tcp/127.0.0.1/${port}']\n      interval: 100ms\n",
                    "quick", "  quick:\n    from: harness\n    rollout: {gate_timeout: 5s}\n");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    auto applied = plan_and_apply(*runtime, project.loaded);
    CHECK_MESSAGE(applied.ok(), (applied.ok() ? std::string() : applied.error().to_string()));
    const auto status = runtime->status();
    REQUIRE(status.size() == 1);
    REQUIRE(status[0].replicas.size() == 1);
    CHECK(status[0].replicas[0].health == tandem::Health::healthy);
}

TEST_CASE("a start that fails its health gate is tried again with backoff until it passes") {
    const int port = free_port();
    Project project("  cache:\n    run: if [ -f go ]; then exec " + kService + " --port ${port}; else exec " + kService +
                        " --port ${port} --fail-health; fi\n    port: " + std::to_string(port) +
                        "\n    health: {http: /healthz, interval: 50ms, failure_threshold: 1}\n",
                    "quick", "  quick:\n    from: wip\n    rollout: {gate_timeout: 400ms}\n");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    auto applied = plan_and_apply(*runtime, project.loaded);
    CHECK_FALSE(applied.ok());
    // Retried: a second failed start shows that the failure did not leave the service down for good.
    CHECK(eventually([&] { return runtime->status().at(0).errors.failed_gates >= 2; }, 5000ms));
    project.dir.write("go", "");
    CHECK(eventually(
        [&] {
            const auto s = runtime->status().at(0);
            return s.state == tandem::ServiceState::ready && s.replicas.size() == 1;
        },
        10000ms));
    CHECK(http_get(port, "/version").has_value());
    CHECK(runtime->status().at(0).last_error.empty());
}

TEST_CASE("under wip a replace drops no request: a new replica takes traffic only once it listens") {
    const int port = free_port();
    auto yaml = [&](const std::string& version) {
        return "  api:\n    run: [" + kService + ", --port, \"${port}\", --start-delay, '300', --version-string, " +
               version + "]\n    port: " + std::to_string(port) +
               "\n    stop_grace: 2s\n    health: {http: /healthz, interval: 50ms}\n";
    };
    Project project(yaml("v1"), "wip");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    REQUIRE(plan_and_apply(*runtime, project.loaded).ok());
    REQUIRE(eventually([&] { return http_get(port, "/version", 300ms).has_value(); }, 5000ms));
    std::atomic<bool> stop{false};
    std::atomic<int> ok{0}, failed{0};
    std::thread client([&] {
        while (!stop) {
            auto r = http_get(port, "/version", 5000ms);
            (r && r->status == 200 ? ok : failed)++;
        }
    });
    for (int round = 2; round <= 4; ++round) {
        project.rewrite(yaml("v" + std::to_string(round)), "wip");
        REQUIRE(plan_and_apply(*runtime, project.loaded).ok());
        const std::string want = "v" + std::to_string(round) + "\n";
        CHECK(eventually([&] { auto r = http_get(port, "/version", 1000ms); return r && r->body == want; }, 5000ms));
    }
    stop = true;
    client.join();
    CHECK(ok > 0);
    CHECK(failed == 0);
}

TEST_CASE("a replace racing a pending crash restart leaves exactly the replicas asked for") {
    const int port = free_port();
    auto yaml = [&](const std::string& extra) {
        return "  app:\n    run: [" + kService + ", --port, \"${port}\"" + extra + "]\n    port: " + std::to_string(port) +
               "\n    replicas: 1\n    health: {tcp: true, interval: 50ms}\n";
    };
    // wip restarts a crash after 100 ms, 200 ms, 400 ms, ...: after a few crashes one is pending long enough.
    Project project(yaml(", --exit-after, '30'"), "wip");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    (void)plan_and_apply(*runtime, project.loaded);  // the crashing start fails; its restarts go on
    REQUIRE(eventually([&] { return runtime->status().at(0).restarts >= 4; }, 10000ms));
    project.rewrite(yaml(""), "wip");  // the fix, saved while a restart is pending
    REQUIRE(plan_and_apply(*runtime, project.loaded).ok());
    int most = 0;
    const auto until = std::chrono::steady_clock::now() + 3000ms;
    while (std::chrono::steady_clock::now() < until) {
        most = std::max(most, replica_count(*runtime, "app"));
        std::this_thread::sleep_for(10ms);
    }
    CHECK(most == 1);
    CHECK(replica_count(*runtime, "app") == 1);
}

TEST_CASE("a crash shows the replica's own last lines and the line that says why, and recovery clears it") {
    const int port = free_port();
    auto yaml = [&](const std::string& run) {
        return "  app:\n    run: " + run + "\n    port: " + std::to_string(port) +
               "\n    health: {tcp: true, interval: 50ms}\n";
    };
    Project project(yaml("sh crash.sh"), "wip");
    project.dir.write("crash.sh", "echo starting app\necho '  File \"app.py\", line 3' >&2\n"
                                  "echo 'SyntaxError: invalid syntax' >&2\necho 'Worker failed to boot.' >&2\nexit 3\n");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    (void)plan_and_apply(*runtime, project.loaded);  // it crashes: the start fails
    REQUIRE(eventually([&] { return runtime->status().at(0).errors.crashes >= 1; }, 5000ms));
    auto crashed = runtime->status().at(0);
    CHECK(crashed.last_error.find("exited with code 3") != std::string::npos);
    CHECK(crashed.last_error.find("SyntaxError: invalid syntax") != std::string::npos);
    REQUIRE(crashed.crash_lines.size() >= 3);
    CHECK(crashed.crash_lines.back() == "Worker failed to boot.");
    for (const auto& event : events.texts("app"))  // never "back" before it crashes again
        CHECK(event.find("is back") == std::string::npos);

    project.rewrite(yaml("[" + kService + ", --port, \"${port}\"]"), "wip");
    REQUIRE(plan_and_apply(*runtime, project.loaded).ok());
    const auto fixed = runtime->status().at(0);
    CHECK(fixed.state == tandem::ServiceState::ready);
    CHECK(fixed.last_error.empty());
    CHECK(fixed.crash_lines.empty());
    CHECK(fixed.replicas.size() == 1);
}

TEST_CASE("under on_crash revert a crash after the revert window is restarted with backoff") {
    const int port = free_port();
    Project project("  app:\n    run: [" + kService + ", --port, \"${port}\", --exit-after, '1500']\n    port: " +
                        std::to_string(port) + "\n    health: {tcp: true, interval: 50ms}\n",
                    "quick",
                    "  quick:\n    from: harness\n    auto_revert: {window: 1s}\n    crash: {on_crash: revert}\n");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    REQUIRE(plan_and_apply(*runtime, project.loaded).ok());
    // It crashes 1.5 s after it started, after the 1 s window: restarted, not left down.
    CHECK(eventually([&] { return runtime->status().at(0).restarts >= 1; }, 5000ms));
    CHECK(eventually([&] { return replica_count(*runtime, "app") == 1 && http_get(port, "/version", 300ms); }, 5000ms));
}

TEST_CASE("after a failed rolling rollout status and observe() report the release that serves") {
    const int port = free_port();
    Project project(service_yaml("api", port, "v1", 2), "quick",
                    "  quick:\n    from: harness\n    rollout: {gate_timeout: 1s}\n");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    REQUIRE(plan_and_apply(*runtime, project.loaded).ok());
    const auto before = runtime->observe().services.at("api");
    project.rewrite(service_yaml("api", port, "v2", 2, ", --fail-health"), "quick",
                    "  quick:\n    from: harness\n    rollout: {gate_timeout: 1s}\n");
    CHECK_FALSE(plan_and_apply(*runtime, project.loaded).ok());
    const auto after = runtime->observe().services.at("api");
    CHECK(after.fingerprint == before.fingerprint);
    CHECK(after.state == tandem::ServiceState::ready);
    CHECK(runtime->status().at(0).last_error.find("the previous release serves") == 0);
    CHECK(http_get(port, "/version")->body == "v1\n");
    // The old release still serves: the planner sees the new spec as not yet running.
    auto plan = tandem::make_plan(project.loaded.spec, runtime->observe(), project.loaded.policy, {});
    REQUIRE(plan.ok());
    CHECK(plan->action_count() > 0);
}

TEST_CASE("a public port that is taken fails the start and status says why") {
    const int port = free_port();
    const int taken = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    REQUIRE(bind(taken, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(listen(taken, 1) == 0);
    Project project("  cache:\n    run: [" + kService + ", --port, \"${port}\"]\n    port: " + std::to_string(port) + "\n",
                    "wip");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    CHECK_FALSE(plan_and_apply(*runtime, project.loaded).ok());
    const auto status = runtime->status().at(0);
    CHECK(status.state == tandem::ServiceState::crashed);
    CHECK_MESSAGE(status.last_error.find(std::to_string(port)) != std::string::npos, status.last_error);
    close(taken);
}
