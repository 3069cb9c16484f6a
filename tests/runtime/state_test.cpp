// `state:` and `user:` on the process runtime end to end: state directories under the state
// dir, `${state.NAME}` in every command, data kept across restarts and rebuilds, emptied by a
// reset (only where the policy allows it), and services run as another user.
#include <doctest/doctest.h>

#include "runtime/runtime_fixture.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_user.hpp"

#include <tandem/plan.hpp>
#include <tandem/executor.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace tandem::test;
using tandem::test::eventually;

namespace {

std::string text_of(const fs::path& file) { return fs::exists(file) ? read_text(file) : std::string("<missing>"); }

int lines_of(const fs::path& file) {
    const std::string text = text_of(file);
    return text == "<missing>" ? 0 : static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

int pid_of(tandem::Executor& runtime, const std::string& service) {
    for (const auto& status : runtime.status())
        if (status.name == service && !status.replicas.empty()) return tandem::test::pid_of(status.replicas.front());
    return 0;
}

tandem::PlanRequest reset_of(const std::string& service) {
    tandem::PlanRequest request;
    request.reset = {service};
    return request;
}

// db keeps its data in the state `data`, which the migrate job shares; every place a command
// or env value is written uses ${state.data}.
const std::string kStatefulServices =
    "  db:\n"
    "    build: echo built >> ${state.data}/builds\n"
    "    run: echo $$ > ${state.data}/../db.pid; echo start >> ${state.data}/starts; echo \"$DATA\" > ${state.data}/env; exec sleep 600\n"
    "    env: {DATA: \"${state.data}\"}\n"
    "    state: [data]\n"
    "    health: {exec: \"test -f ${state.data}/starts\", interval: 50ms}\n"
    "    reset: ls -A ${state.data} | wc -l > ${state.data}/../entries_at_reset; if kill -0 $(cat ${state.data}/../db.pid) 2>/dev/null; then echo running; else echo stopped; fi > ${state.data}/replica_at_reset\n"
    "    stop_grace: 1s\n"
    "  migrate:\n"
    "    run: exec sleep 600\n"
    "    state: [data]\n"
    "    watch: [{paths: [schema.sql], action: run, command: \"echo migrated >> ${state.data}/migrations\"}]\n"
    "    stop_grace: 1s\n";

}  // namespace

TEST_CASE("state: a directory under the state dir, in every command, kept across restarts and rebuilds, emptied by a reset") {
    Project project(kStatefulServices, "wip");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    REQUIRE(plan_and_apply(*runtime, project.loaded).ok());
    const fs::path data = project.dir.path() / ".tandem" / "state" / "data";
    REQUIRE(fs::is_directory(data));
    struct stat info {};
    REQUIRE(::stat(data.c_str(), &info) == 0);
    CHECK((info.st_mode & 07777) == 0700);
    CHECK(lines_of(data / "builds") == 1);  // build.command
    CHECK(lines_of(data / "starts") == 1);  // run (health.exec passed on it)
    CHECK(text_of(data / "env") == data.string() + "\n");  // env: an absolute path

    // A restart with a rebuild, then a watch rule's command: the data is still there.
    tandem::PlanRequest trigger;
    trigger.trigger = {"db"};
    REQUIRE(plan_and_apply(*runtime, project.loaded, trigger).ok());
    CHECK(lines_of(data / "builds") == 2);
    CHECK(lines_of(data / "starts") == 2);
    tandem::PlanRequest schema;
    schema.changed_paths = {"schema.sql"};
    REQUIRE(plan_and_apply(*runtime, project.loaded, schema).ok());
    CHECK(lines_of(data / "migrations") == 1);

    // A reset stops db, empties the state (the migrations of the job that shares it too), runs
    // the reset command on the empty directory, then starts db again.
    const int old_pid = pid_of(*runtime, "db");
    REQUIRE(old_pid > 0);
    auto reset = plan_and_apply(*runtime, project.loaded, reset_of("db"));
    REQUIRE_MESSAGE(reset.ok(), reset.error().to_string());
    CHECK(text_of(data / "replica_at_reset") == "stopped\n");
    CHECK(text_of(data / ".." / "entries_at_reset") == "0\n");
    CHECK_FALSE(fs::exists(data / "builds"));
    CHECK_FALSE(fs::exists(data / "migrations"));
    CHECK(lines_of(data / "starts") == 1);
    CHECK(pid_of(*runtime, "db") != old_pid);
    CHECK(kill(old_pid, 0) != 0);
    REQUIRE(::stat(data.c_str(), &info) == 0);
    CHECK((info.st_mode & 07777) == 0700);

    // The engine restarts: the state directory outlives it.
    runtime.reset();
    runtime = start_runtime(project.dir.path(), events);
    REQUIRE(plan_and_apply(*runtime, project.loaded).ok());
    CHECK(lines_of(data / "starts") == 2);
}

TEST_CASE("state: a service with state and no reset command is reset by emptying it, and a policy that denies resets touches nothing") {
    const std::string services =
        "  cache:\n"
        "    run: test -f ${state.cache}/warm || date > ${state.cache}/warm; exec sleep 600\n"
        "    state: [cache]\n"
        "    stop_grace: 1s\n";
    Project project(services, "wip");
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    REQUIRE(plan_and_apply(*runtime, project.loaded).ok());
    const fs::path cache = project.dir.path() / ".tandem" / "state" / "cache";
    REQUIRE(eventually([&] { return fs::exists(cache / "warm"); }, std::chrono::seconds(10)));
    std::ofstream(cache / "kept-unless-reset") << "x";

    SUBCASE("harness denies it: nothing is touched") {
        Project harness(services, "harness");
        const int pid = pid_of(*runtime, "cache");
        auto plan = tandem::make_plan(harness.loaded.spec, runtime->observe(), harness.loaded.policy, reset_of("cache"));
        REQUIRE_FALSE(plan.ok());
        CHECK(plan.error().code == tandem::ErrorCode::policy_denied);
        CHECK(fs::exists(cache / "kept-unless-reset"));
        CHECK(pid_of(*runtime, "cache") == pid);
    }
    SUBCASE("wip allows it: the state is emptied and the service starts on the empty directory") {
        const std::string warm_before = read_text(cache / "warm");
        auto reset = plan_and_apply(*runtime, project.loaded, reset_of("cache"));
        REQUIRE_MESSAGE(reset.ok(), reset.error().to_string());
        CHECK_FALSE(fs::exists(cache / "kept-unless-reset"));
        CHECK(eventually([&] { return fs::exists(cache / "warm"); }, std::chrono::seconds(10)));
        CHECK(fs::is_directory(cache));
    }
}

TEST_CASE("user: replicas, exec probes, reset and watch commands run as the user, the build as the engine user") {
    const auto user = test_user();
    if (!user) {
        MESSAGE("skipped: running a service as another user needs root");
        return;
    }
    const std::string uid = std::to_string(user->uid);
    Project project(
        "  db:\n"
        "    build: id -u > ${state.data}/build_uid\n"
        "    run: id -u > ${state.data}/run_uid; echo \"$USER $LOGNAME\" > ${state.data}/who; exec sleep 600\n"
        "    state: [data]\n"
        "    user: " + user->name + "\n"
        "    health: {exec: \"test $(id -u) = " + uid + " && test -f ${state.data}/run_uid\", interval: 50ms}\n"
        "    reset: id -u > ${state.data}/reset_uid\n"
        "    watch: [{paths: [schema.sql], action: run, command: \"id -u > ${state.data}/watch_uid\"}]\n"
        "    stop_grace: 1s\n",
        "quick",
        "  quick:\n    from: wip\n    rollout: {gate_timeout: 5s}\n");
    open_to_others(project.dir.path());
    Events events;
    auto runtime = start_runtime(project.dir.path(), events);
    auto applied = plan_and_apply(*runtime, project.loaded);
    REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());  // the probe passes only as the user

    const fs::path data = project.dir.path() / ".tandem" / "state" / "data";
    struct stat info {};
    REQUIRE(::stat(data.c_str(), &info) == 0);
    CHECK(info.st_uid == user->uid);
    const int pid = pid_of(*runtime, "db");
    REQUIRE(pid > 0);
    CHECK(effective_uid(pid) == user->uid);
    CHECK(text_of(data / "run_uid") == uid + "\n");
    CHECK(text_of(data / "who") == user->name + " " + user->name + "\n");
    CHECK(text_of(data / "build_uid") == std::to_string(::geteuid()) + "\n");

    tandem::PlanRequest schema;
    schema.changed_paths = {"schema.sql"};
    REQUIRE(plan_and_apply(*runtime, project.loaded, schema).ok());
    CHECK(text_of(data / "watch_uid") == uid + "\n");
    REQUIRE(plan_and_apply(*runtime, project.loaded, reset_of("db")).ok());
    CHECK(text_of(data / "reset_uid") == uid + "\n");

    // The engine (root) still stops what runs as the user.
    const int last = pid_of(*runtime, "db");
    runtime->stop_all();
    CHECK(kill(last, 0) != 0);
}
