// What the process runtime's end-to-end tests share: projects of the real test service
// (tests/fixtures/test_service.cpp) in a temporary directory, a runtime on it, the events it
// reports, and planning then applying in one call. Header-only: the area's CMake globs *_test.cpp.
#pragma once

#include "support/free_port.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <tandem/plan.hpp>
#include <tandem/project.hpp>
#include <tandem/executor.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tandem::test {

// A project of test services: `services` is the YAML body under `services:`, `policies` the
// body under `policies:` (the project's own policy sets), if any.
struct Project {
    TempDir dir;
    tandem::Project loaded;

    Project(const std::string& services, const std::string& policy, const std::string& policies = "") {
        rewrite(services, policy, policies);
    }
    void rewrite(const std::string& services, const std::string& policy, const std::string& policies = "") {
        dir.write("tandem.yaml", "version: 1\n" + (policies.empty() ? std::string() : "policies:\n" + policies) +
                                     "services:\n" + services);
        tandem::ProjectOptions options;
        options.policy = policy;
        auto project = tandem::load_project(dir.path(), options);
        REQUIRE_MESSAGE(project.ok(), project.error().to_string());
        loaded = std::move(*project);
    }
};

struct Events {
    std::mutex mutex;
    std::vector<tandem::RuntimeEvent> seen;
    void add(const tandem::RuntimeEvent& e) {
        std::lock_guard lock(mutex);
        seen.push_back(e);
    }
    std::vector<std::string> texts(const std::string& service) {
        std::lock_guard lock(mutex);
        std::vector<std::string> out;
        for (const auto& e : seen)
            if (e.service == service) out.push_back(e.text);
        return out;
    }
};

inline std::unique_ptr<tandem::Executor> start_runtime(const std::filesystem::path& root, Events& events) {
    tandem::ExecutorOptions options;
    options.project_root = root;
    options.state_dir = root / ".tandem";
    auto runtime = tandem::Executor::start(options, [&events](const tandem::RuntimeEvent& e) { events.add(e); });
    REQUIRE_MESSAGE(runtime.ok(), runtime.error().to_string());
    return std::move(*runtime);
}

// Plans against what the runtime observes (bootstrap allowed) and applies the plan.
inline tandem::Status plan_and_apply(tandem::Executor& runtime, const tandem::Project& project,
                                     tandem::PlanRequest request = {}, const tandem::ApplyOptions& options = {}) {
    request.bootstrap = true;
    auto plan = tandem::make_plan(project.spec, runtime.observe(), project.policy, request);
    REQUIRE_MESSAGE(plan.ok(), plan.error().to_string());
    return runtime.apply(project.spec, project.policy, *plan, options);
}

inline std::string service_yaml(const std::string& name, int port, const std::string& version, int replicas,
                                const std::string& extra_args = "", const std::string& more = "") {
    return "  " + name + ":\n    run: [" + std::string(TANDEM_TEST_SERVICE) + ", --port, \"${port}\", --version-string, " +
           version + extra_args + "]\n    port: " + std::to_string(port) + "\n    replicas: " + std::to_string(replicas) +
           "\n    stop_grace: 2s\n    health:\n      http: /healthz\n      interval: 100ms\n" + more;
}

// The process runtime names a replica "pid N": its process (and process group).
inline pid_t pid_of(const tandem::ReplicaStatus& replica) {
    const std::string prefix = "pid ";
    if (replica.handle.rfind(prefix, 0) != 0) return 0;
    return static_cast<pid_t>(std::stol(replica.handle.substr(prefix.size())));
}

// Running, and not a zombie waiting for a parent (or init) to reap it.
inline bool alive(pid_t pid) {
    if (kill(pid, 0) != 0) return false;
    const std::string stat = tandem::test::read_text("/proc/" + std::to_string(pid) + "/stat");
    const auto close_paren = stat.rfind(')');
    return close_paren != std::string::npos && close_paren + 2 < stat.size() && stat[close_paren + 2] != 'Z';
}

// devloop up on `dir`, its output to `dir/devloop.out` (or discarded); returns its pid.
inline pid_t start_devloop(const std::filesystem::path& dir, bool keep_output = false) {
    const std::string out = keep_output ? (dir / "devloop.out").string() : std::string("/dev/null");
    const pid_t engine = fork();
    if (engine == 0) {
        const int sink = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(sink, 1);
        dup2(sink, 2);
        const std::string file = (dir / "tandem.yaml").string();
        execl(TANDEM_DEVLOOP, TANDEM_DEVLOOP, "up", "-f", file.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    return engine;
}

// The pids the engine recorded in the state directory, and the grandchildren's from pid files.
inline std::vector<pid_t> recorded_pids(const std::filesystem::path& dir) {
    std::vector<pid_t> pids;
    const auto state = nlohmann::json::parse(tandem::test::read_text(dir / ".tandem/replicas.json"));
    for (const auto& r : state["replicas"]) pids.push_back(r["pid"].get<pid_t>());
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        if (entry.path().extension() == ".pid") pids.push_back(std::atoi(tandem::test::read_text(entry.path()).c_str()));
    return pids;
}

}  // namespace tandem::test
