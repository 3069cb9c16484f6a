// The loop with a dependency that fails its start: the dependent waits (and says why), the
// loop never says "up to date" while something it should run is down, and once the
// dependency comes up on a retry the dependent starts without any change on disk.
#include <doctest/doctest.h>

#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

#include <tandem/reconcile_loop.hpp>
#include <tandem/executor.hpp>

#include <mutex>

using namespace std::chrono_literals;
using tandem::test::eventually;
using tandem::test::http_get;
using tandem::test::TempDir;

namespace {

struct Texts {
    std::mutex mutex;
    std::vector<std::string> seen;
    void add(const tandem::RuntimeEvent& e) {
        std::lock_guard lock(mutex);
        seen.push_back(e.service + "|" + e.text);
    }
    bool any(const std::string& part) {
        std::lock_guard lock(mutex);
        for (const auto& t : seen)
            if (t.find(part) != std::string::npos) return true;
        return false;
    }
};

}  // namespace

TEST_CASE("loop: a dependent waits for a dependency that failed its start, and starts once a retry brings it up") {
    const std::string svc = TANDEM_TEST_SERVICE;
    const int cache_port = tandem::test::free_port();
    const int web_port = tandem::test::free_port();
    TempDir dir;
    dir.write("tandem.yaml", "version: 1\npolicies:\n  quick:\n    from: wip\n    rollout: {gate_timeout: 500ms}\n"
                             "services:\n  cache:\n    run: if [ -f go ]; then exec " + svc + " --port ${port}; else exec " + svc +
                                 " --port ${port} --fail-health; fi\n    port: " + std::to_string(cache_port) +
                                 "\n    health: {http: /healthz, interval: 50ms, failure_threshold: 1}\n"
                                 "  web:\n    run: [" + svc + ", --port, \"${port}\"]\n    port: " + std::to_string(web_port) +
                                 "\n    depends_on: [cache]\n");
    Texts texts;
    tandem::ExecutorOptions options;
    options.project_root = dir.path();
    options.state_dir = dir.path() / ".tandem";
    auto runtime = tandem::Executor::start(options, [&](const tandem::RuntimeEvent& e) { texts.add(e); });
    REQUIRE(runtime.ok());
    tandem::ReconcileLoop::Options loop_options;
    loop_options.root = dir.path();
    loop_options.project.policy = "quick";
    loop_options.bootstrap = true;
    auto loop = tandem::ReconcileLoop::start(loop_options, **runtime, [&](const tandem::RuntimeEvent& e) { texts.add(e); });
    REQUIRE(loop.ok());
    CHECK_FALSE((*loop)->wait_idle().ok());

    CHECK(eventually([&] { return texts.any("web waits: 'cache' is crashed"); }, 5000ms));
    CHECK_FALSE(texts.any("up to date"));
    auto web_running = [&] {
        for (const auto& s : (*runtime)->status())
            if (s.name == "web") return true;
        return false;
    };
    CHECK_FALSE(web_running());

    dir.write("go", "");  // not a watched change: the cache's retry picks it up
    CHECK(eventually([&] { return http_get(web_port, "/version", 300ms).has_value(); }, 10000ms));
    CHECK(http_get(cache_port, "/version").has_value());
    CHECK(eventually([&] { return texts.any("up to date"); }, 5000ms));
    loop->reset();
    (*runtime)->stop_all();
}
