// The process runtime end to end: real processes of the test service, real sockets through the
// proxy, real rollouts, crashes and leftovers.
#include <doctest/doctest.h>

#include "runtime/runtime_fixture.hpp"
#include "support/http_client.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <tandem/plan.hpp>
#include <tandem/project.hpp>
#include <tandem/runtime.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <fcntl.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <mutex>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using tandem::test::eventually;
using tandem::test::http_get;
using tandem::test::TempDir;
using namespace tandem::test;  // the runtime fixture


TEST_CASE("a service comes up behind its proxy, dependencies first, and stop_all leaves no process") {
    const int db_port = free_port(), api_port = free_port();
    Project project(service_yaml("db", db_port, "db1", 1, ", --start-delay, '300'") +
                        service_yaml("api", api_port, "api1", 2, "", "    depends_on: [db]\n"),
                    "wip");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    auto applied = plan_and_apply(*runtime, project.loaded);
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());

    auto reply = http_get(api_port, "/version");
    REQUIRE(reply);
    CHECK(reply->body == "api1\n");
    CHECK(http_get(db_port, "/version")->body == "db1\n");

    // api's replicas were started only after db was healthy (ready).
    std::vector<std::string> order;
    {
        std::lock_guard lock(events.mutex);
        for (const auto& e : events.seen)
            if (e.kind == tandem::RuntimeEventKind::state &&
                ((e.service == "db" && e.text.rfind("ready", 0) == 0) ||
                 (e.service == "api" && e.text.find("started") != std::string::npos)))
                order.push_back(e.service);
    }
    REQUIRE(order.size() >= 2);
    CHECK(order.front() == "db");

    const auto observed = runtime->observe();
    REQUIRE(observed.services.count("api") == 1);
    CHECK(observed.services.at("api").replicas == 2);
    CHECK(observed.services.at("api").fingerprint == tandem::fingerprint(project.loaded.spec, *project.loaded.spec.find("api")));

    std::vector<pid_t> pids;
    for (const auto& s : runtime->status())
        for (const auto& r : s.replicas) pids.push_back(pid_of(r));
    CHECK(pids.size() == 3);
    runtime->stop_all();
    for (pid_t pid : pids) CHECK_FALSE(alive(pid));
    CHECK_FALSE(http_get(api_port, "/version", 300ms));
}

TEST_CASE("a rolling replace behind the proxy drops no request") {
    const int port = free_port();
    Project project(service_yaml("api", port, "v1", 2), "harness");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    REQUIRE(plan_and_apply(*runtime, project.loaded).ok());
    REQUIRE(http_get(port, "/version")->body == "v1\n");

    std::atomic<bool> stop{false};
    std::atomic<int> ok{0}, failed{0};
    std::thread client([&] {
        while (!stop) {
            auto r = http_get(port, "/version");
            (r && r->status == 200 ? ok : failed)++;
        }
    });
    project.rewrite(service_yaml("api", port, "v2", 2), "harness");
    auto applied = plan_and_apply(*runtime, project.loaded);
    std::this_thread::sleep_for(200ms);
    stop = true;
    client.join();
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());
    CHECK(http_get(port, "/version")->body == "v2\n");
    CHECK(ok > 0);
    CHECK(failed == 0);
}

TEST_CASE("a new replica that fails its health gate fails the rollout and the old ones keep serving") {
    const int port = free_port();
    const std::string gate = "  ";
    Project project(service_yaml("api", port, "v1", 2), "harness");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    REQUIRE(plan_and_apply(*runtime, project.loaded).ok());

    // harness gates for 1m; a set of our own gates for 1s so the test is quick.
    project.dir.write("tandem.yaml",
                      "version: 1\npolicies:\n  quick:\n    from: harness\n    rollout:\n      gate_timeout: 1s\n"
                      "services:\n" + service_yaml("api", port, "v2", 2, ", --fail-health"));
    tandem::ProjectOptions options;
    options.policy = "quick";
    auto broken = tandem::load_project(project.dir.path(), options);
    REQUIRE(broken.ok());
    auto applied = plan_and_apply(*runtime, *broken);
    CHECK_FALSE(applied.ok());
    CHECK(http_get(port, "/version")->body == "v1\n");
    const auto observed = runtime->observe();
    CHECK(observed.services.at("api").healthy == 2);
}

TEST_CASE("a crashing replica is restarted with backoff and its crash is kept for display") {
    const int port = free_port();
    // No health probe here: the probe's own requests would count towards --crash-after.
    Project project("  api:\n    run: [" + std::string(TANDEM_TEST_SERVICE) +
                        ", --port, \"${port}\", --crash-after, '1']\n    port: " + std::to_string(port) + "\n",
                    "wip");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    REQUIRE(plan_and_apply(*runtime, project.loaded).ok());
    CHECK(http_get(port, "/version"));  // the one request it answers before abort()
    REQUIRE(eventually(
        [&] {
            auto s = runtime->status();
            return !s.empty() && s[0].restarts >= 1;
        },
        5000ms));
    auto s = runtime->status()[0];
    CHECK(s.last_error.find("SIGABRT") != std::string::npos);
    // A client that gave up would leave its connection waiting in the proxy, and the next
    // replica (it aborts after one request) would answer that one and die: wait long enough.
    CHECK(eventually([&] { return http_get(port, "/version", 3000ms).has_value(); }, 10000ms));
}


TEST_CASE("replicas left by an engine killed with SIGKILL are stopped by the next engine") {
    const int port = free_port();
    TempDir dir;
    dir.write("tandem.yaml", "version: 1\nservices:\n" +
                                 service_yaml("api", port, "v1", 2, ", --spawn-grandchild, --pid-file, \"grandchild-${port}.pid\""));
    const pid_t engine = start_devloop(dir.path());
    REQUIRE(eventually([&] { return http_get(port, "/version", 300ms).has_value(); }, 10000ms));
    REQUIRE(eventually([&] { return recorded_pids(dir.path()).size() >= 3; }, 5000ms));
    kill(engine, SIGKILL);
    waitpid(engine, nullptr, 0);
    const auto pids = recorded_pids(dir.path());
    for (pid_t pid : pids) CHECK(alive(pid));  // orphans now

    Events events;
    auto runtime = start_runtime(dir.path(), events);
    auto texts = events.texts("api");
    CHECK(texts.size() == 2);
    for (const auto& t : texts) CHECK(t.find("left running") != std::string::npos);
    for (pid_t pid : pids) CHECK(eventually([&] { return !alive(pid); }, 2000ms));
}

TEST_CASE("Ctrl+C of devloop up stops every replica and grandchild") {
    const int port = free_port();
    TempDir dir;
    dir.write("tandem.yaml", "version: 1\nservices:\n" +
                                 service_yaml("api", port, "v1", 2, ", --spawn-grandchild, --pid-file, \"grandchild-${port}.pid\""));
    const pid_t engine = start_devloop(dir.path());
    REQUIRE(eventually([&] { return http_get(port, "/version", 300ms).has_value(); }, 10000ms));
    REQUIRE(eventually([&] { return recorded_pids(dir.path()).size() >= 3; }, 5000ms));
    const auto pids = recorded_pids(dir.path());
    kill(engine, SIGINT);
    int status = 0;
    waitpid(engine, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    for (pid_t pid : pids) CHECK_FALSE(alive(pid));
}

TEST_CASE("a replica that keeps crashing is restarted after doubling delays") {
    Project project("  flaky:\n    run: [" + std::string(TANDEM_TEST_SERVICE) + ", --exit-after, '10', --exit-code, '7']\n",
                    "wip");  // wip: backoff from 100ms, doubling
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    // Its start succeeds or fails depending on whether the crash beats its readiness: either
    // way the crashes that follow are restarted with the same backoff.
    (void)plan_and_apply(*runtime, project.loaded);
    auto restarts = [&] {
        std::vector<std::string> out;
        for (const auto& t : events.texts("flaky"))
            if (t.rfind("restarting in", 0) == 0) out.push_back(t);
        return out;
    };
    REQUIRE(eventually([&] { return restarts().size() >= 3; }, 5000ms));
    const auto seen = restarts();
    CHECK(seen[0] == "restarting in 100ms (crash 1)");
    CHECK(seen[1] == "restarting in 200ms (crash 2)");
    CHECK(seen[2] == "restarting in 400ms (crash 3)");
    const auto status = runtime->status();
    REQUIRE(status.size() == 1);
    CHECK(status[0].last_error.find("exited with code 7") != std::string::npos);
}

TEST_CASE("devloop up restarts a service on save, answers status and ls-watched, and down stops everything") {
    const int port = free_port();
    TempDir dir;
    dir.write("version.txt", "v1\n");
    dir.write(".gitignore", "scratch/\n");
    dir.write("tandem.yaml", "version: 1\nservices:\n  web:\n    run: exec " + std::string(TANDEM_TEST_SERVICE) +
                                 " --port ${port} --version-string $(cat version.txt)\n    port: " + std::to_string(port) +
                                 "\n    watch: [{paths: [version.txt], action: restart}]\n");
    const pid_t engine = start_devloop(dir.path());
    REQUIRE(eventually([&] { auto r = http_get(port, "/version", 300ms); return r && r->body == "v1\n"; }, 10000ms));
    const auto pids = recorded_pids(dir.path());

    dir.write("scratch/notes.txt", "ignored: no restart");
    dir.write("version.txt", "v2\n");
    CHECK(eventually([&] { auto r = http_get(port, "/version", 300ms); return r && r->body == "v2\n"; }, 10000ms));

    const std::string file = (dir.path() / "tandem.yaml").string();
    auto status = tandem::test::run_command({TANDEM_DEVLOOP, "status", "-f", file});
    CHECK(status.exit_code == 0);
    CHECK(status.out.find("web") != std::string::npos);
    CHECK(status.out.find("ready") != std::string::npos);

    auto listed = tandem::test::run_command({TANDEM_DEVLOOP, "ls-watched", "--ignored", "-f", file});
    CHECK(listed.out.find("version.txt\n") != std::string::npos);
    CHECK(listed.out.find("scratch/  ignored by .gitignore:1: scratch/") != std::string::npos);

    auto down = tandem::test::run_command({TANDEM_DEVLOOP, "down", "-f", file});
    CHECK(down.exit_code == 0);
    int exit_status = 0;
    waitpid(engine, &exit_status, 0);
    CHECK(WIFEXITED(exit_status));
    for (pid_t pid : pids) CHECK_FALSE(alive(pid));
    for (pid_t pid : recorded_pids(dir.path())) CHECK_FALSE(alive(pid));
    auto after = tandem::test::run_command({TANDEM_DEVLOOP, "status", "-f", file});
    CHECK(after.exit_code == 1);
    CHECK(after.err.find("no engine is running") != std::string::npos);
}

TEST_CASE("a replica inherits no descriptor of the engine but its three streams") {
    const int port = free_port();
    // The proxy's listener, the engine's pipes and sockets are all open while this starts.
    Project project("  web:\n    run: \"ls /proc/self/fd > fds.txt; exec " + std::string(TANDEM_TEST_SERVICE) +
                        " --port ${port}\"\n    port: " + std::to_string(port) + "\n",
                    "wip");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    REQUIRE(plan_and_apply(*runtime, project.loaded).ok());
    REQUIRE(eventually([&] { return fs::exists(project.dir.path() / "fds.txt"); }, 5000ms));
    REQUIRE(eventually([&] { return http_get(port, "/version", 300ms).has_value(); }, 5000ms));
    // ls itself opens one descriptor to read the directory; anything beyond is a leak.
    std::istringstream listed(tandem::test::read_text(project.dir.path() / "fds.txt"));
    std::vector<int> fds;
    for (int fd; listed >> fd;) fds.push_back(fd);
    REQUIRE(fds.size() >= 3);
    CHECK(fds.size() <= 4);
    CHECK(fds[0] == 0);
    CHECK(fds[1] == 1);
    CHECK(fds[2] == 2);
}
