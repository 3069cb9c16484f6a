// A reconcile loop over a project written into a temp dir, with a real process runtime: what
// the loop tests share.
#pragma once

#include "support/temp_dir.hpp"

#include <tandem/reconcile_loop.hpp>
#include <tandem/executor.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tandem::test {

struct Events {
    std::mutex mutex;
    std::vector<tandem::RuntimeEvent> seen;
    void add(const tandem::RuntimeEvent& e) {
        std::lock_guard lock(mutex);
        seen.push_back(e);
    }
    bool any(tandem::RuntimeEventKind kind, const std::string& part) {
        std::lock_guard lock(mutex);
        for (const auto& e : seen)
            if (e.kind == kind && e.text.find(part) != std::string::npos) return true;
        return false;
    }
};

// A running loop over a project written into a temp dir.
struct Session {
    TempDir dir;
    Events events;
    std::unique_ptr<tandem::Executor> runtime;
    std::unique_ptr<tandem::ReconcileLoop> loop;

    Session(const std::string& yaml, const std::string& policy = "wip") {
        dir.write("tandem.yaml", yaml);
        tandem::ExecutorOptions options;
        options.project_root = dir.path();
        options.state_dir = dir.path() / ".tandem";
        auto started = tandem::Executor::start(options, [this](const tandem::RuntimeEvent& e) { events.add(e); });
        REQUIRE_MESSAGE(started.ok(), started.error().to_string());
        runtime = std::move(*started);
        tandem::ReconcileLoop::Options loop_options;
        loop_options.root = dir.path();
        loop_options.project.policy = policy;
        loop_options.bootstrap = true;
        auto made = tandem::ReconcileLoop::start(loop_options, *runtime, [this](const tandem::RuntimeEvent& e) { events.add(e); });
        REQUIRE_MESSAGE(made.ok(), made.error().to_string());
        loop = std::move(*made);
        auto first = loop->wait_idle();
        REQUIRE_MESSAGE(first.ok(), first.error().to_string());
    }
    ~Session() {
        loop.reset();
        runtime->stop_all();
    }
    int replica_id(const std::string& service) {
        for (const auto& s : runtime->status())
            if (s.name == service && !s.replicas.empty()) return s.replicas.front().id;
        return 0;
    }
};

inline std::string service(const std::string& name, const std::string& extra) {
    return "  " + name + ":\n    run: [" + std::string(TANDEM_TEST_SERVICE) + ", --port, \"${port}\", --version-string, " +
           name + "]\n    port: 0\n" + extra;
}

}  // namespace tandem::test
