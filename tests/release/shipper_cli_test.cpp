// The shipper binary: run in the background, its commands from a second process, and an
// engine killed with SIGKILL in the middle of a rollout.
#include "release/release_fixture.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::test;

namespace {

// shipper run in the background, its output in `log`; returns its pid.
pid_t start_shipper(const fs::path& upstream, const fs::path& state, const fs::path& log, bool bootstrap) {
    const pid_t pid = fork();
    if (pid == 0) {
        const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(out, 1);
        dup2(out, 2);
        std::vector<std::string> args{TANDEM_SHIPPER, "run", "--repo", upstream.string(), "--ref", "main",
                                      "--state-dir", state.string(), "--poll", "100ms"};
        if (bootstrap) args.push_back("--bootstrap");
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(TANDEM_SHIPPER, argv.data());
        _exit(127);
    }
    return pid;
}

nlohmann::json release_status(const fs::path& state) {
    return shipper_status(state).value("release", nlohmann::json::object());
}

bool deployed(const fs::path& state, const std::string& commit, std::chrono::milliseconds timeout) {
    return eventually(
        [&] {
            const auto s = release_status(state);
            return s.value("deployed", "") == commit && !s.value("busy", true);
        },
        timeout);
}

}  // namespace

TEST_CASE("shipper run, status, history, diff, sync and rollback from a second process") {
    Upstream upstream;
    TempDir state;
    const int port = free_port();
    const auto first = upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "first");
    const pid_t engine = start_shipper(upstream.path(), state.path(), state.path() / "shipper.log", true);
    REQUIRE_MESSAGE(deployed(state.path(), first, 30000ms), read_text(state.path() / "shipper.log"));
    CHECK(served_version(port) == "v1");

    const auto table = shipper(state.path(), {"status"});
    CHECK(table.exit_code == 0);
    CHECK(table.out.find("deployed:   " + first.substr(0, 12)) != std::string::npos);
    CHECK(table.out.find("sha256:") != std::string::npos);

    const auto second = upstream.commit({{"version.txt", "v2\n"}}, "second");
    const auto synced = shipper(state.path(), {"sync", "-o", "json"});
    CHECK(synced.exit_code == 0);
    REQUIRE(deployed(state.path(), second, 30000ms));

    // What going back to `first` would do: web is rebuilt and replaced, nothing else.
    const auto diff = shipper(state.path(), {"diff", first.substr(0, 10)});
    CHECK_MESSAGE(diff.exit_code == 0, diff.err);
    CHECK(diff.out.find("replace") != std::string::npos);
    CHECK(diff.out.find("worker") == std::string::npos);
    const auto unknown = shipper(state.path(), {"diff", "no-such-branch"});
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.err.find("no-such-branch") != std::string::npos);

    const auto history = shipper(state.path(), {"history"});
    CHECK(history.exit_code == 0);
    CHECK(history.out.find("* " + second.substr(0, 12)) != std::string::npos);
    CHECK(history.out.find(first.substr(0, 12)) != std::string::npos);

    const auto rolled = shipper(state.path(), {"rollback", first.substr(0, 12)});
    CHECK_MESSAGE(rolled.exit_code == 0, rolled.err);
    CHECK(served_version(port) == "v1");
    CHECK(release_status(state.path()).value("pinned", false));

    const auto reset = shipper(state.path(), {"reset", "db"});
    CHECK(reset.exit_code == 1);
    CHECK(reset.err.find("reset") != std::string::npos);

    const auto verified = shipper(state.path(), {"audit", "verify"});
    CHECK_MESSAGE(verified.exit_code == 0, verified.err);
    const auto shown = shipper(state.path(), {"audit", "show"});
    CHECK(shown.out.find("rollback") != std::string::npos);
    CHECK(shown.out.find("policy_refusal") != std::string::npos);

    kill(engine, SIGTERM);
    int status = 0;
    waitpid(engine, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(served_version(port).empty());
}

TEST_CASE("shipper killed with SIGKILL mid-rollout comes back to a consistent release with a valid audit chain") {
    Upstream upstream;
    TempDir state;
    const int port = free_port();
    const auto first = upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "first");
    const fs::path log = state.path() / "shipper.log";
    const pid_t engine = start_shipper(upstream.path(), state.path(), log, true);
    REQUIRE_MESSAGE(deployed(state.path(), first, 30000ms), read_text(log));

    const auto slow = upstream.commit(
        {{"tandem.yaml", project_yaml(port, ", --start-delay, \"1500\"")}, {"version.txt", "v2\n"}}, "slow");
    REQUIRE(eventually([&] { return release_status(state.path()).value("busy", false); }, 10000ms));
    std::this_thread::sleep_for(300ms);  // inside the rollout: the new replica is starting
    kill(engine, SIGKILL);
    waitpid(engine, nullptr, 0);

    const pid_t again = start_shipper(upstream.path(), state.path(), log, false);
    REQUIRE_MESSAGE(deployed(state.path(), slow, 40000ms), read_text(log));
    CHECK(served_version(port) == "v2");
    const auto verified = shipper(state.path(), {"audit", "verify"});
    CHECK_MESSAGE(verified.exit_code == 0, verified.err);
    const auto records = audit_records(state.path());
    REQUIRE(records.size() >= 3);
    CHECK(records.back().entry.commit == slow);
    CHECK(records.back().entry.outcome == ChangeOutcome::succeeded);
    bool recovered = false;
    for (const auto& r : records) recovered = recovered || r.entry.event == ChangeEvent::recover;
    CHECK(recovered);

    kill(again, SIGTERM);
    waitpid(again, nullptr, 0);
    CHECK(served_version(port).empty());
}

TEST_CASE("shipper audit verify names the first bad line of a tampered log") {
    TempDir dir;
    const fs::path file = dir.path() / "audit.jsonl";
    {
        auto log = AuditLog::open(file);
        REQUIRE(log.ok());
        for (int i = 0; i < 5; ++i) {
            AuditEntry entry;
            entry.event = ChangeEvent::deploy;
            entry.actor = "poll";
            entry.outcome = ChangeOutcome::succeeded;
            entry.message = "record " + std::to_string(i + 1);
            REQUIRE((*log)->append(entry).ok());
        }
    }
    std::string text = read_text(file);
    const auto at = text.find("record 3");
    REQUIRE(at != std::string::npos);
    text[at + 7] = '9';
    std::ofstream(file, std::ios::trunc) << text;
    const auto result = run_command({TANDEM_SHIPPER, "audit", "verify", "--audit-log", file.string()});
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("audit.jsonl:3:") != std::string::npos);
}
