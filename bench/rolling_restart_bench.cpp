// Drives tandem's process runtime for the rolling-restart benchmark: brings up N replicas of
// the test service behind the proxy, then performs rolling restarts (a new version string
// each time) at fixed times, printing how long each rollout took. A benchmark, not a test.
//
//   tandem_rolling_bench SERVICE_BIN PORT [RESTARTS] [FIRST_MS] [INTERVAL_MS] [STRATEGY]
#include <tandem/plan.hpp>
#include <tandem/project.hpp>
#include <tandem/executor.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

namespace {

namespace fs = std::filesystem;

void write_project(const fs::path& dir, const std::string& service, int port, int version, const std::string& strategy) {
    std::ofstream(dir / "tandem.yaml", std::ios::trunc)
        << "version: 1\n"
        << "policies:\n  bench:\n    from: harness\n    rollout:\n      strategy: " << strategy
        << "\n      gate_timeout: 10s\n      drain_timeout: 5s\n"
        << "services:\n  web:\n    run: [" << service << ", --port, \"${port}\", --version-string, v" << version
        << "]\n    port: " << port << "\n    replicas: 2\n    stop_grace: 2s\n"
        << "    health:\n      http: /healthz\n      interval: 100ms\n";
}

tandem::Status deploy(tandem::Executor& runtime, const fs::path& dir) {
    tandem::ProjectOptions options;
    options.policy = "bench";
    auto project = tandem::load_project(dir, options);
    if (!project) return project.error();
    tandem::PlanRequest request;
    request.bootstrap = true;
    auto plan = tandem::make_plan(project->spec, runtime.observe(), project->policy, request);
    if (!plan) return plan.error();
    return runtime.apply(project->spec, project->policy, *plan);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: tandem_rolling_bench SERVICE_BIN PORT [RESTARTS] [FIRST_MS] [INTERVAL_MS] [STRATEGY]\n";
        return 2;
    }
    const std::string service = argv[1];
    const int port = std::atoi(argv[2]);
    const int restarts = argc > 3 ? std::atoi(argv[3]) : 5;
    const auto first = std::chrono::milliseconds(argc > 4 ? std::atoi(argv[4]) : 3000);
    const auto interval = std::chrono::milliseconds(argc > 5 ? std::atoi(argv[5]) : 5000);
    const std::string strategy = argc > 6 ? argv[6] : "rolling";

    const fs::path dir = fs::temp_directory_path() / ("tandem-rolling-bench-" + std::to_string(port));
    fs::create_directories(dir);
    tandem::ExecutorOptions options;
    options.project_root = dir;
    options.state_dir = dir / ".tandem";
    auto runtime = tandem::Executor::start(options, [](const tandem::RuntimeEvent& e) {
        if (e.kind == tandem::RuntimeEventKind::failure || e.kind == tandem::RuntimeEventKind::crash)
            std::cerr << "bench: " << e.service << ": " << e.text << "\n";
    });
    if (!runtime) {
        std::cerr << "bench: " << runtime.error().to_string() << "\n";
        return 1;
    }
    write_project(dir, service, port, 1, strategy);
    if (auto s = deploy(**runtime, dir); !s) {
        std::cerr << "bench: " << s.error().to_string() << "\n";
        return 1;
    }
    std::cout << "ready" << std::endl;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < restarts; ++i) {
        std::this_thread::sleep_until(start + first + interval * i);
        write_project(dir, service, port, i + 2, strategy);
        const auto t0 = std::chrono::steady_clock::now();
        auto s = deploy(**runtime, dir);
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
        std::cout << "restart " << i + 1 << ": " << (s ? "ok" : s.error().message) << " in " << ms.count() << " ms"
                  << std::endl;
    }
    std::cout << "done" << std::endl;
    std::string line;
    std::getline(std::cin, line);  // the script closes stdin when wrk is done
    (*runtime)->stop_all();
    fs::remove_all(dir);
    return 0;
}
