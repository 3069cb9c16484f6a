// Commands a killed engine left running: a build (a shell, its children and grandchildren)
// under way when devloop was SIGKILLed is stopped by the next start's sweep, as replicas are.
#include <doctest/doctest.h>

#include "runtime/runtime_fixture.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include <sstream>

namespace tandem::test {
namespace {

using namespace std::chrono_literals;

std::vector<pid_t> pids_in(const std::filesystem::path& file) {
    std::vector<pid_t> pids;
    std::istringstream lines(read_text(file));
    for (pid_t pid = 0; lines >> pid;) pids.push_back(pid);
    return pids;
}

// Kills whatever of `file`'s pids still runs when the test ends, however it ends.
struct KillWrittenPids {
    std::filesystem::path file;
    ~KillWrittenPids() {
        std::error_code ec;
        if (!std::filesystem::exists(file, ec)) return;
        for (pid_t pid : pids_in(file))
            if (pid > 1) ::kill(pid, SIGKILL);
    }
};

}  // namespace

TEST_CASE("a build running when the engine is SIGKILLed is stopped with all its processes by the next start") {
    TempDir dir;
    // The build: a shell that starts a child shell (which becomes a sleep) and a sleep of its
    // own, each writing its pid down, then waits for them: five minutes unless stopped.
    dir.write("build.sh",
              "echo $$ >> build.pids\n"
              "sh -c 'echo $$ >> build.pids; exec sleep 300' &\n"
              "sleep 300 &\n"
              "echo $! >> build.pids\n"
              "wait\n");
    dir.write("tandem.yaml", "version: 1\nservices:\n"
                             "  app:\n"
                             "    build:\n"
                             "      command: sh build.sh\n"
                             "      outputs: [out]\n"
                             "    run: [" + std::string(TANDEM_TEST_SERVICE) + ", --version-string, app]\n");
    const auto pid_file = dir.path() / "build.pids";
    KillWrittenPids cleanup{pid_file};
    const pid_t engine = start_devloop(dir.path());
    const bool building = eventually([&] { return std::filesystem::exists(pid_file) && pids_in(pid_file).size() == 3; },
                                     20000ms);
    // Recorded like a replica, with its kind: the engine's direct child, the group's leader.
    pid_t leader = 0;
    const bool recorded = building && eventually([&] {
        const auto state = nlohmann::json::parse(read_text(dir.path() / ".tandem/replicas.json"), nullptr, false);
        if (state.is_object())
            for (const auto& record : state.value("replicas", nlohmann::json::array()))
                if (record.value("kind", "") == "build") leader = record.value("pid", 0);
        return leader > 0;
    }, 5000ms);
    ::kill(engine, SIGKILL);
    ::waitpid(engine, nullptr, 0);
    REQUIRE(building);
    REQUIRE(recorded);
    // PR_SET_PDEATHSIG: the leader goes with the engine, before any sweep; its children stay.
    CHECK(eventually([&] { return !alive(leader); }, 5000ms));
    const auto pids = pids_in(pid_file);

    Events events;
    auto runtime = start_runtime(dir.path(), events);  // what `devloop up` does first
    for (pid_t pid : pids) CHECK_MESSAGE(eventually([&] { return !alive(pid); }, 5000ms), "pid " << pid << " still runs");
    bool reported = false;
    for (const auto& text : events.texts("app")) reported = reported || text.find("stopped the build (pid") == 0;
    CHECK(reported);
    runtime->stop_all();
}

TEST_CASE("an exec probe running when the engine is SIGKILLed dies with the engine") {
    TempDir dir;
    // A probe that hangs (its own timeout an hour away), its pid written down.
    dir.write("tandem.yaml", "version: 1\nservices:\n"
                             "  app:\n"
                             "    run: [" + std::string(TANDEM_TEST_SERVICE) + ", --version-string, app]\n"
                             "    health:\n"
                             "      exec: [sh, -c, 'echo $$ > probe.pid; exec sleep 300']\n"
                             "      timeout: 1h\n");
    const auto pid_file = dir.path() / "probe.pid";
    KillWrittenPids cleanup{pid_file};
    const pid_t engine = start_devloop(dir.path());
    const bool probing = eventually([&] { return pids_in(pid_file).size() == 1; }, 20000ms);
    ::kill(engine, SIGKILL);
    ::waitpid(engine, nullptr, 0);
    REQUIRE(probing);
    const pid_t probe = pids_in(pid_file).front();
    CHECK_MESSAGE(eventually([&] { return !alive(probe); }, 5000ms), "probe " << probe << " outlived its engine");
    Events events;
    auto runtime = start_runtime(dir.path(), events);  // sweeps the replica the engine left
    runtime->stop_all();
}

}  // namespace tandem::test
