// An engine that dies on every deploy of one commit: the deploy under way is recorded before
// it starts, and the start after the third death in a row refuses the commit instead of
// dying again, while the release it had keeps serving.
#include "release/release_fixture.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <thread>

namespace tandem::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

nlohmann::json release_of(const fs::path& state) { return shipper_status(state).value("release", nlohmann::json::object()); }

// Waits up to `timeout` for `pid` (a child) to end; its wait status, or -1 if it still runs.
int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
    int status = -1;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid, &status, WNOHANG) == pid) return status;
        std::this_thread::sleep_for(20ms);
    }
    return -1;
}

}  // namespace

TEST_CASE("a commit whose deploy kills the engine three times in a row is refused at the next start") {
    Upstream upstream;
    TempDir state;
    // However the test ends: what a killed engine left running is stopped, as a start does.
    struct Sweep {
        fs::path dir;
        ~Sweep() {
            ExecutorOptions options;
            options.project_root = dir / "releases";
            options.state_dir = dir / "runtime";
            (void)Executor::start(options, {});
        }
    } sweep{state.path()};
    const int port = free_port();
    const auto first = upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "first");
    const fs::path log = state.path() / "shipper.log";
    const std::vector<std::string> run{TANDEM_SHIPPER, "run", "--repo", upstream.path().string(), "--state-dir",
                                       state.path().string(), "--poll", "100ms", "--bootstrap", "--http-port", "off"};
    {
        BackgroundProgram engine(state.path(), run, log);
        REQUIRE_MESSAGE(eventually([&] { return release_of(state.path()).value("deployed", "") == first; }, 30000ms),
                        read_text(log));
        engine.stop();
    }

    // The build of the next commit SIGKILLs the engine that runs it (its shell's parent). A
    // sandboxed build sees no pid of the engine (its own pid namespace), so this one is not.
    std::string yaml = project_yaml(port, {}, "    builds:\n      sandbox: false\n");
    const std::string build = "command: mkdir -p out";
    yaml.replace(yaml.find(build), build.size(), "command: kill -KILL $PPID; exit 1; mkdir -p out");
    const auto killer = upstream.commit({{"tandem.yaml", yaml}, {"version.txt", "v2\n"}}, "a build that kills the engine");

    for (int death = 1; death <= 3; ++death) {
        const pid_t engine = start_program(state.path(), run, log);
        const int status = wait_exit(engine, 60000ms);
        if (status == -1) stop_program(engine);
        REQUIRE_MESSAGE(status != -1, "engine " << death << " did not die: " << read_text(log));
        CHECK(WIFSIGNALED(status));
        CHECK(WTERMSIG(status) == SIGKILL);
    }

    BackgroundProgram engine(state.path(), run, log);
    auto refused = [&] {
        const auto s = release_of(state.path());
        return s.value("deployed", "") == first && s.value("head", "") == killer &&
               s.value("head_rejected", "").find("3 times in a row") != std::string::npos && !s.value("busy", true);
    };
    REQUIRE_MESSAGE(eventually(refused, 60000ms), read_text(log));
    const auto status = release_of(state.path());
    CHECK(status.value("head_rejected", "").find("crash loop") != std::string::npos);
    CHECK(eventually([&] { return served_version(port) == "v1"; }, 10000ms));

    int interrupted = 0, refusals = 0;
    for (const auto& record : audit_records(state.path())) {
        if (record.entry.commit != killer) continue;
        interrupted += record.entry.event == ChangeEvent::interrupted;
        if (record.entry.event == ChangeEvent::refused && record.entry.message.find("commit " + killer) != std::string::npos &&
            record.entry.message.find("3 times in a row (the limit is 3)") != std::string::npos)
            ++refusals;
    }
    CHECK(interrupted == 2);
    CHECK(refusals == 1);
    CHECK(shipper(state.path(), {"history"}).out.find(killer.substr(0, 12)) != std::string::npos);
    engine.stop();
}

}  // namespace tandem::test
