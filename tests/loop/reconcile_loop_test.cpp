// The reconcile loop with real files and processes: the right action for the right service,
// coalescing, cancellation of overtaken builds, spec reloads good and broken, resets.
#include <doctest/doctest.h>

#include "loop/loop_session.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

#include <tandem/ignore.hpp>
#include <tandem/loop_control.hpp>
#include <tandem/reconcile_loop.hpp>
#include <tandem/runtime.hpp>
#include <tandem/watch.hpp>

#include <algorithm>
#include <atomic>
#include <thread>
#include <filesystem>
#include <mutex>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using tandem::test::eventually;
using tandem::test::http_get;
using tandem::test::read_text;
using tandem::test::service;
using tandem::test::Session;
using tandem::test::TempDir;

TEST_CASE("a save restarts exactly the service whose watch rule it matches") {
    Session s("version: 1\nservices:\n" + service("a", "    watch: [{paths: [a/**], action: restart}]\n") +
              service("b", "    watch: [{paths: [b/**], action: restart}]\n"));
    const int a_before = s.replica_id("a"), b_before = s.replica_id("b");
    REQUIRE(a_before != 0);
    REQUIRE(b_before != 0);
    s.dir.write("a/x.txt", "1");
    s.loop->changed({"a/x.txt"});
    REQUIRE(s.loop->wait_idle().ok());
    CHECK(s.replica_id("a") != a_before);
    CHECK(s.replica_id("b") == b_before);

    s.loop->changed({"elsewhere/readme.md"});  // matches no rule: nothing happens
    REQUIRE(s.loop->wait_idle().ok());
    CHECK(s.loop->stats().passes == 2);
}

TEST_CASE("a burst of 200 changes during a build coalesces into one or two passes") {
    Session s("version: 1\nservices:\n" +
              service("web", "    build: {command: 'sleep 0.3; echo built >> builds.log', inputs: [src/**]}\n"));
    const auto before = s.loop->stats().passes;
    for (int i = 0; i < 200; ++i) s.loop->changed({"src/file" + std::to_string(i) + ".c"});
    REQUIRE(s.loop->wait_idle().ok());
    const auto passes = s.loop->stats().passes - before;
    CHECK(passes >= 1);
    CHECK(passes <= 2);
}

TEST_CASE("with cancel_in_flight a newer change cancels the running build and starts it again") {
    Session s("version: 1\nservices:\n" +
              service("web", "    build: {command: 'touch started.$$; sleep 3; touch finished.$$', inputs: [src/**]}\n"));
    for (const auto& e : fs::directory_iterator(s.dir.path()))
        if (e.path().filename().string().rfind("started.", 0) == 0 || e.path().filename().string().rfind("finished.", 0) == 0)
            fs::remove(e.path());
    s.loop->changed({"src/a.c"});
    REQUIRE(eventually([&] {
        for (const auto& e : fs::directory_iterator(s.dir.path()))
            if (e.path().filename().string().rfind("started.", 0) == 0) return true;
        return false;
    }, 5000ms));
    s.loop->changed({"src/b.c"});
    REQUIRE(s.loop->wait_idle().ok());
    int started = 0, finished = 0;
    for (const auto& e : fs::directory_iterator(s.dir.path())) {
        started += e.path().filename().string().rfind("started.", 0) == 0;
        finished += e.path().filename().string().rfind("finished.", 0) == 0;
    }
    CHECK(started == 2);
    CHECK(finished == 1);  // the first build was killed before it finished
    CHECK(s.loop->stats().cancelled == 1);
}

TEST_CASE("a broken tandem.yaml leaves everything running - a fixed one applies only the difference") {
    const std::string good = "version: 1\nservices:\n" + service("a", "") + service("b", "");
    Session s(good);
    const int a_before = s.replica_id("a"), b_before = s.replica_id("b");
    s.dir.write("tandem.yaml", "version: 1\nservices:\n  a:\n    replicaz: 2\n");
    s.loop->changed({"tandem.yaml"});
    CHECK(s.loop->wait_idle().ok());  // the pass itself has nothing to do
    CHECK(s.events.any(tandem::RuntimeEventKind::failure, "tandem.yaml:4:5: unknown key 'replicaz'"));
    CHECK(s.replica_id("a") == a_before);
    CHECK(s.replica_id("b") == b_before);

    s.dir.write("tandem.yaml", "version: 1\nservices:\n" + service("a", "    env: {COLOUR: blue}\n") + service("b", ""));
    s.loop->changed({"tandem.yaml"});
    REQUIRE(s.loop->wait_idle().ok());
    CHECK(s.replica_id("a") != a_before);  // its spec changed
    CHECK(s.replica_id("b") == b_before);  // untouched
    CHECK(s.loop->stats().reloads == 1);
}

TEST_CASE("reset runs the service's reset command and restarts what depends on it, as the policy allows") {
    const std::string yaml = "version: 1\nservices:\n" + service("db", "    reset: 'echo wiped >> resets.log'\n") +
                             service("api", "    depends_on: [db]\n");
    {
        Session s(yaml, "wip");
        const int api_before = s.replica_id("api");
        REQUIRE(s.loop->reset("db").ok());
        CHECK(read_text(s.dir.path() / "resets.log") == "wiped\n");
        CHECK(s.replica_id("api") != api_before);
        auto trigger = s.loop->trigger("nope");
        REQUIRE_FALSE(trigger.ok());
        CHECK(trigger.error().code == tandem::ErrorCode::unknown_service);
    }
    {
        Session s(yaml, "harness");
        auto refused = s.loop->reset("db");
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().code == tandem::ErrorCode::policy_denied);
        CHECK_FALSE(fs::exists(s.dir.path() / "resets.log"));
    }
}

TEST_CASE("a checkout-like burst of 200 files through the real watcher gives one or two passes") {
    Session s("version: 1\nservices:\n" +
              service("web", "    build: {command: 'sleep 0.2; echo built >> builds.log', inputs: [src/**]}\n") +
              "  other:\n    run: [sleep, '1000']\n");
    fs::create_directories(s.dir.path() / "src");
    auto rules = tandem::IgnoreRules::load(s.dir.path());
    REQUIRE(rules.ok());
    auto watcher = tandem::DiskWatcher::start(
        *rules, [&](std::vector<std::string> paths) { s.loop->changed(std::move(paths)); }, [](const tandem::Error&) {});
    REQUIRE(watcher.ok());
    const auto before = s.loop->stats();
    for (int i = 0; i < 200; ++i) s.dir.write("src/f" + std::to_string(i) + ".c", "int x;\n");
    REQUIRE(eventually([&] { return fs::exists(s.dir.path() / "builds.log"); }, 5000ms));
    std::this_thread::sleep_for(300ms);  // let any trailing batch reach the loop
    REQUIRE(s.loop->wait_idle().ok());
    // A reconcile is a pass that ran to the end or was cancelled by a later batch of the burst.
    const auto after = s.loop->stats();
    const auto reconciles = (after.passes - before.passes) + (after.cancelled - before.cancelled);
    CHECK(after.passes - before.passes >= 1);
    CHECK(reconciles <= 2);
    const std::string builds = read_text(s.dir.path() / "builds.log");
    CHECK(std::count(builds.begin(), builds.end(), '\n') <= 2);
}

TEST_CASE("the loop's control refuses a reset for a service with neither a reset command nor state") {
    Session s("version: 1\nservices:\n" + service("db", "    reset: 'true'\n") + service("cache", "    state: [cache]\n") +
              service("api", ""));
    tandem::LoopControl control(*s.runtime, *s.loop, [] {});
    const auto refused = control.refused_service_actions();
    CHECK(refused.count("db") == 0);
    CHECK(refused.count("cache") == 0);  // a reset empties its state
    REQUIRE(refused.count("api") == 1);
    CHECK(refused.at("api").at("reset") == "api has no reset command and no state: (add `reset:` to it in tandem.yaml)");
}
