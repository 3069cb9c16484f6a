// An Executor over a FakeRuntime: what the executor, loop and release tests on the fake
// runtime share.
#pragma once

#include "support/fake_runtime.hpp"

#include <tandem/executor.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <string>

namespace tandem::test {

struct FakeEngine {
    FakeRuntime* fake = nullptr;  // owned by the executor
    std::unique_ptr<tandem::Executor> executor;

    // Logs and state of the executor under `state_dir`; events go to `on_event`.
    FakeEngine(const std::filesystem::path& project_root, const std::filesystem::path& state_dir,
               tandem::Executor::EventHandler on_event) {
        auto runtime = std::make_unique<FakeRuntime>();
        fake = runtime.get();
        tandem::ExecutorOptions options;
        options.project_root = project_root;
        options.state_dir = state_dir;
        auto started = tandem::Executor::start(std::move(runtime), options, std::move(on_event));
        REQUIRE_MESSAGE(started.ok(), started.error().to_string());
        executor = std::move(*started);
    }

    // The service's status, or an empty one.
    tandem::ServiceStatus status(const std::string& service) const {
        for (auto& s : executor->status())
            if (s.name == service) return s;
        return {};
    }
};

// A service that runs nothing real: the fake runtime never executes it.
inline std::string fake_service(const std::string& name, int port, const std::string& version, int replicas,
                                const std::string& more = "") {
    return "  " + name + ":\n    run: [fake-server, --version, " + version + "]\n    port: " + std::to_string(port) +
           "\n    replicas: " + std::to_string(replicas) + "\n    health:\n      http: /healthz\n" + more;
}

}  // namespace tandem::test
