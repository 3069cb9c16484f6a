// Commands gated on the source, not on the tool: devloop follows a git branch with `run --repo R
// --ref B` under wip (a commit on the branch is deployed, one on another branch is not), shipper
// runs files on disk with --source disk, each engine refuses the operations its source does not
// have, naming them, and `restart` reaches a running engine from the CLI.
#include "release/release_fixture.hpp"

#include <tandem/operations.hpp>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::test;

namespace {

// One service serving version.txt of the commit it started from; no policy: the tool's default.
std::string branch_project(int port) {
    const std::string service = TANDEM_TEST_SERVICE;
    return "version: 1\n"
           "project: preview\n"
           "services:\n"
           "  web:\n"
           "    run: [" + service + ", --port, \"${port}\", --version-file, version.txt]\n"
           "    port: " + std::to_string(port) + "\n"
           "    stop_grace: 1s\n"
           "    watch:\n"
           "      - paths: [version.txt]\n"
           "        action: sync\n";
}

CommandResult devloop(const fs::path& cwd, std::vector<std::string> args) {
    args.insert(args.begin(), TANDEM_DEVLOOP);
    return run_command(args, cwd);
}

nlohmann::json json_of(const CommandResult& result) {
    const auto j = nlohmann::json::parse(result.out, nullptr, false);
    return result.exit_code == 0 && j.is_object() ? j : nlohmann::json::object();
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("devloop run --repo R --ref feature-x follows the branch under wip: its commits deploy, main's do not") {
    Upstream upstream;
    TempDir state;
    const int port = free_port();
    upstream.commit({{"tandem.yaml", branch_project(port)}, {"version.txt", "main-1\n"}}, "main");
    git(upstream.path(), {"checkout", "-q", "-b", "feature-x"});
    const auto feature = upstream.commit({{"version.txt", "feature-1\n"}}, "feature one");
    const fs::path log = state.path() / "devloop.log";
    BackgroundProgram engine(state.path(),
                             {TANDEM_DEVLOOP, "run", "--repo", upstream.path().string(), "--ref", "feature-x",
                              "--state-dir", state.path().string(), "--poll", "100ms", "--http-port", "off"},
                             log);
    const std::vector<std::string> at_state{"--state-dir", state.path().string()};
    auto status = [&] {
        std::vector<std::string> args{"status", "-o", "json"};
        args.insert(args.end(), at_state.begin(), at_state.end());
        return json_of(devloop(state.path(), args));
    };
    auto deployed = [&](const std::string& commit) {
        return eventually([&] {
            const auto release = status().value("release", nlohmann::json::object());
            return release.value("deployed", "") == commit && !release.value("busy", true);
        }, 30000ms);
    };
    REQUIRE_MESSAGE(deployed(feature), read_text(log));
    CHECK(eventually([&] { return served_version(port) == "feature-1"; }, 10000ms));
    const auto first = status();
    CHECK(first["policy"] == "wip");
    CHECK(first["release"]["ref"] == "feature-x");

    const auto second = upstream.commit({{"version.txt", "feature-2\n"}}, "feature two");
    // Deployed, and served: the commit's files are in a release directory of their own, so the
    // sync rule restarts the replica there instead of leaving it on the first commit's file.
    REQUIRE_MESSAGE(deployed(second), read_text(log));
    CHECK_MESSAGE(eventually([&] { return served_version(port) == "feature-2"; }, 10000ms), read_text(log));

    // A commit on main: a sync fetches it and deploys nothing, the branch's head being unchanged.
    git(upstream.path(), {"checkout", "-q", "main"});
    upstream.commit({{"version.txt", "main-2\n"}}, "main two");
    std::vector<std::string> sync{"sync"};
    sync.insert(sync.end(), at_state.begin(), at_state.end());
    const auto synced = devloop(state.path(), sync);
    CHECK_MESSAGE(synced.exit_code == 0, synced.err);
    CHECK(status()["release"]["deployed"] == second);
    CHECK(status()["release"]["head"] == second);
    engine.stop();
}

// A service with a build, followed on a branch under wip: each commit is built and what it
// built is what serves.
TEST_CASE("devloop run --repo R builds a service with a build step for each commit it deploys") {
    Upstream upstream;
    TempDir state;
    const int port = free_port();
    const std::string project = "version: 1\n"
                                "project: preview\n"
                                "services:\n"
                                "  web:\n"
                                "    build:\n"
                                "      command: mkdir -p out && cp " TANDEM_TEST_SERVICE " out/svc && cp version.txt out/version\n"
                                "      inputs: [version.txt]\n"
                                "      outputs: [out]\n"
                                "    run: [out/svc, --port, \"${port}\", --version-file, out/version]\n"
                                "    port: " + std::to_string(port) + "\n"
                                "    stop_grace: 1s\n";
    const auto first = upstream.commit({{"tandem.yaml", project}, {"version.txt", "built-1\n"}}, "one");
    const fs::path log = state.path() / "devloop.log";
    BackgroundProgram engine(state.path(),
                             {TANDEM_DEVLOOP, "run", "--repo", upstream.path().string(), "--ref", "main",
                              "--state-dir", state.path().string(), "--poll", "100ms", "--http-port", "off"},
                             log);
    auto deployed = [&](const std::string& commit) {
        return eventually([&] {
            const auto release = json_of(devloop(state.path(), {"status", "-o", "json", "--state-dir",
                                                                state.path().string()}))
                                     .value("release", nlohmann::json::object());
            return release.value("deployed", "") == commit && !release.value("busy", true);
        }, 30000ms);
    };
    REQUIRE_MESSAGE(deployed(first), read_text(log));
    CHECK_MESSAGE(eventually([&] { return served_version(port) == "built-1"; }, 10000ms), read_text(log));
    // The engine's own lines are the tool's: devloop's, not shipper's.
    CHECK_MESSAGE(contains(read_text(log), " devloop: following main of "), read_text(log));
    CHECK_MESSAGE(!contains(read_text(log), " shipper: "), read_text(log));
    const auto second = upstream.commit({{"version.txt", "built-2\n"}}, "two");
    REQUIRE_MESSAGE(deployed(second), read_text(log));
    CHECK_MESSAGE(eventually([&] { return served_version(port) == "built-2"; }, 10000ms), read_text(log));
    engine.stop();
}

TEST_CASE("devloop run without a repository is refused, naming the command and the source") {
    TempDir dir;
    const auto refused = devloop(dir.path(), {"run"});
    CHECK(refused.exit_code == 2);
    CHECK_MESSAGE(contains(refused.err, "`run` needs a git source, and this command line reads files on disk"), refused.err);
    const auto up = run_command({TANDEM_SHIPPER, "up"}, dir.path());
    CHECK(up.exit_code == 2);
    CHECK_MESSAGE(contains(up.err, "`up` needs a disk source, and this command line reads git"), up.err);
}

TEST_CASE("shipper --source disk runs files on disk: status and restart reach it, sync is refused naming it") {
    TempDir project;
    const int port = free_port();
    project.write("tandem.yaml", "version: 1\nservices:\n  api:\n    run: [" + std::string(TANDEM_TEST_SERVICE) +
                                     ", --port, \"${port}\", --version-string, disk]\n    port: " + std::to_string(port) +
                                     "\n    stop_grace: 1s\n");
    BackgroundProgram engine(project.path(), {TANDEM_SHIPPER, "up", "--source", "disk", "--bootstrap", "--http-port", "off"},
                             project.path() / "up.log");
    REQUIRE_MESSAGE(eventually([&] { return served_version(port) == "disk"; }, 20000ms), read_text(project.path() / "up.log"));
    const auto status = run_command({TANDEM_SHIPPER, "--source", "disk", "status", "-o", "json"}, project.path());
    CHECK_MESSAGE(status.exit_code == 0, status.err);
    CHECK(json_of(status)["release"].is_null());

    // shipper's own default source (git) finds the running disk engine too, which refuses sync.
    const auto sync = run_command({TANDEM_SHIPPER, "sync"}, project.path());
    CHECK(sync.exit_code == 2);
    CHECK_MESSAGE(contains(sync.err, "`sync` is an operation of an engine that follows a git repository; this engine "
                                     "follows files on disk"), sync.err);

    // restart, which the CLI lacked: the service comes back.
    const auto restarted = run_command({TANDEM_SHIPPER, "--source", "disk", "restart", "api"}, project.path());
    CHECK_MESSAGE(restarted.exit_code == 0, restarted.err);
    CHECK(restarted.out == "api: restarted\n");
    CHECK(eventually([&] { return served_version(port) == "disk"; }, 20000ms));
    const auto unknown = run_command({TANDEM_SHIPPER, "--source", "disk", "restart", "ghost"}, project.path());
    CHECK(unknown.exit_code == 1);
    CHECK(contains(unknown.err, "no service 'ghost'"));
    engine.stop();
}

TEST_CASE("every operation of the table is a command of both front-ends, listed in their help") {
    for (const char* program : {TANDEM_DEVLOOP, TANDEM_SHIPPER}) {
        const auto help = run_command({program, "--help"});
        REQUIRE(help.exit_code == 0);
        for (const auto& operation : engine_operations()) {
            CAPTURE(operation.name);
            CHECK(contains(help.out, "\n  " + std::string(operation.name) + " "));
        }
    }
}
