// What the release tests share: an upstream repository made with the git CLI, a project of
// test services written into it, and a shipper engine (runtime + release loop) on a state
// directory of its own, with the events it reported.
#pragma once

#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <tandem/audit_log.hpp>
#include <tandem/release_loop.hpp>
#include <tandem/executor.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sys/types.h>
#include <string>
#include <vector>

namespace tandem::test {

// The repository teams push to: a work tree on branch main.
class Upstream {
public:
    Upstream();
    const std::filesystem::path& path() const { return dir_.path(); }
    // Writes `files` (path -> content), commits everything and returns the commit id; with
    // `signing_key` (an SSH private key file) the commit is SSH-signed.
    std::string commit(const std::map<std::string, std::string>& files, const std::string& message,
                       const std::filesystem::path& signing_key = {});
    std::string head() const;

private:
    TempDir dir_;
};

// tandem.yaml of a project with a `web` service (built: its artifact holds the test service
// and version.txt; served on `port`, 2 replicas) and a `worker` (no build, no port), under
// a policy `release` that starts from harness with timings short enough for tests.
// `web_flags` are extra argv items of web's run (e.g. `, --fail-health`).
std::string project_yaml(int port, const std::string& web_flags = {}, const std::string& policy_extra = {});

struct EngineEvents {
    std::mutex mutex;
    std::vector<RuntimeEvent> list;
    void add(const RuntimeEvent& e);
    // How many events of `kind` have text starting with `prefix` (for `service`, if given).
    int count(RuntimeEventKind kind, const std::string& prefix, const std::string& service = {});
};

// A shipper engine on `state_dir` following `upstream`'s main.
struct Engine {
    EngineEvents events;
    std::unique_ptr<Executor> runtime;
    std::unique_ptr<ReleaseLoop> loop;
    std::atomic<ReleaseLoop*> auditing{nullptr};  // runtime events go to it once it runs

    Engine(const std::filesystem::path& upstream, const std::filesystem::path& state_dir, bool bootstrap = true,
           Duration poll = Duration(100), std::optional<std::filesystem::path> allowed_signers = std::nullopt);
    ~Engine();
    ReleaseStatus status() const { return loop->status(); }
    // Waits (up to `timeout`) until the deployed commit is `commit` and nothing is under way.
    bool deployed(const std::string& commit, Duration timeout = Duration(30000));
};

// A fresh upstream whose first commit (web serving "v1" on `port`) an engine has deployed:
// where most release tests start.
struct FirstRelease {
    Upstream upstream;
    TempDir state;
    int port = free_port();
    std::string first = upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "first");
    Engine engine{upstream.path(), state.path()};

    FirstRelease() { REQUIRE(engine.deployed(first)); }
};

// The web service's /version through its proxy, or "" when it does not answer.
std::string served_version(int port);

std::vector<AuditRecord> audit_records(const std::filesystem::path& state_dir);

// `argv` (argv[0] a path) started in the background in `cwd`, its output appended to `log`.
pid_t start_program(const std::filesystem::path& cwd, std::vector<std::string> argv, const std::filesystem::path& log);
// SIGTERM, then waits for it to exit.
void stop_program(pid_t pid);

// A program started by start_program and stopped by stop_program when the test ends, however
// it ends (a failed REQUIRE included), so that no engine outlives its test.
class BackgroundProgram {
public:
    BackgroundProgram(const std::filesystem::path& cwd, std::vector<std::string> argv, const std::filesystem::path& log)
        : pid_(start_program(cwd, std::move(argv), log)) {}
    ~BackgroundProgram() { stop(); }
    BackgroundProgram(const BackgroundProgram&) = delete;
    BackgroundProgram& operator=(const BackgroundProgram&) = delete;
    void stop() {
        if (pid_ > 0) stop_program(pid_);
        pid_ = -1;
    }

private:
    pid_t pid_ = -1;
};

// This process's user name, as the engine puts it in an actor ("uid N" when it has none).
std::string user_name();

// `shipper ARGS --state-dir STATE`, as a user runs it.
CommandResult shipper(const std::filesystem::path& state, std::vector<std::string> args);
// `shipper status -o json` of the engine on `state`: an empty object when it fails.
nlohmann::json shipper_status(const std::filesystem::path& state);

// A real `shipper run` process (--poll 100ms --bootstrap, then `extra` flags) on a fresh
// upstream whose first commit (web serving "v1" on `port`) it has deployed when constructed;
// stopped when the test ends, however it ends.
struct ShipperRun {
    Upstream upstream;
    TempDir state;
    int port = free_port();
    std::string first = upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "first");
    std::filesystem::path log = state.path() / "shipper.log";
    BackgroundProgram engine;

    explicit ShipperRun(const std::vector<std::string>& extra = {});
    nlohmann::json release() const { return shipper_status(state.path()).value("release", nlohmann::json::object()); }
};

}  // namespace tandem::test
