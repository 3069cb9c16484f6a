// Builds keyed by their inputs, end to end: real repositories, real builds (sandboxed under the
// harness set), real rollouts. A commit that changes only a file the build does not read
// deploys with the stored artifact and runs no build; a changed input, command or env builds
// again; the keys outlive a shipper restart.
#include "release/release_fixture.hpp"

#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::test;

namespace {

struct CacheProject {
    std::string build_extra;   // appended to web's build command
    std::string env;           // web's `env:` lines, if any
    std::string policy_extra;  // more knobs of the `release` set
};

// web's build copies the test service and src/input.txt into out/ and stamps out/nonce with
// the time, so that every real build makes a new artifact; web serves version.txt from the
// commit's tree, which is no build input: a watch rule restarts web when it changes (and
// under harness, without updates.live, every change plans a build).
std::string cache_yaml(int port, const CacheProject& p = {}) {
    return "version: 1\n"
           "project: cache\n"
           "policy: release\n"
           "policies:\n"
           "  release:\n"
           "    from: harness\n"
           "    rollout:\n"
           "      gate_timeout: 2s\n"
           "      drain_timeout: 200ms\n"
           "    auto_revert:\n"
           "      window: 3s\n"
           "      max_errors: 3\n" +
           p.policy_extra +
           "services:\n"
           "  web:\n"
           "    build:\n"
           "      command: mkdir -p out && cp " TANDEM_TEST_SERVICE " out/svc && cp src/input.txt out/input && "
           "date +%s%N > out/nonce" + p.build_extra + "\n"
           "      inputs: [src/**]\n"
           "      outputs: [out]\n" +
           p.env +
           "    run: [out/svc, --port, \"${port}\", --version-file, version.txt]\n"
           "    port: " + std::to_string(port) + "\n"
           "    replicas: 1\n"
           "    stop_grace: 1s\n"
           "    health:\n"
           "      http: /healthz\n"
           "      interval: 100ms\n"
           "      failure_threshold: 2\n"
           "    watch:\n"
           "      - paths: [version.txt]\n"
           "        action: restart\n";
}

std::string digest_of(Executor& runtime, const std::string& service) {
    for (const auto& s : runtime.status())
        if (s.name == service) return s.artifact_digest;
    return {};
}

// web's change in the audit record of `commit`'s deploy (its last one).
AuditServiceChange web_change(const fs::path& state, const std::string& commit) {
    AuditServiceChange found;
    for (const auto& record : audit_records(state))
        if (record.entry.commit == commit)
            for (const auto& change : record.entry.services)
                if (change.service == "web") found = change;
    return found;
}

// A fresh upstream of cache_yaml whose first commit an in-process engine deployed.
struct CachedRelease {
    Upstream upstream;
    TempDir state;
    int port = free_port();
    std::string first = upstream.commit(
        {{"tandem.yaml", cache_yaml(port)}, {"version.txt", "v1\n"}, {"src/input.txt", "input 1\n"}}, "first");
    Engine engine{upstream.path(), state.path()};

    CachedRelease() { REQUIRE(engine.deployed(first)); }
    // Builds of web started so far (the runtime's action events "build (commit ...)").
    int builds() { return engine.events.count(RuntimeEventKind::action, "build (", "web"); }
};

}  // namespace

TEST_CASE_FIXTURE(CachedRelease, "a commit that changes only a file the build does not read deploys without running the build") {
    CHECK(served_version(port) == "v1");
    const int builds_before = builds();
    REQUIRE(builds_before == 1);
    const std::string digest = digest_of(*engine.runtime, "web");
    const AuditServiceChange first_change = web_change(state.path(), first);
    CHECK(first_change.build == "built");
    REQUIRE(first_change.build_key.rfind("sha256:", 0) == 0);

    const auto data = upstream.commit({{"version.txt", "v2\n"}}, "data only");
    REQUIRE(engine.deployed(data));
    CHECK(eventually([&] { return served_version(port) == "v2"; }, 10000ms));  // deployed: web restarted on the new data
    CHECK(builds() == builds_before);                          // the build command did not run
    CHECK(digest_of(*engine.runtime, "web") == digest);        // the same artifact (a build stamps a new nonce)
    const AuditServiceChange change = web_change(state.path(), data);
    CHECK(change.change == "replace");
    CHECK(change.build == "reused");
    CHECK(change.build_key == first_change.build_key);
    CHECK(change.new_digest == digest);
    CHECK(engine.events.count(RuntimeEventKind::state, "reused artifact " + digest.substr(0, 19) + " of key " +
                                                           first_change.build_key.substr(0, 19),
                              "web") == 1);
}

TEST_CASE_FIXTURE(CachedRelease, "a commit that changes a build input, the build command or the build's env builds again") {
    struct Case {
        const char* what;
        std::map<std::string, std::string> files;
    };
    const std::vector<Case> cases{
        {"an input", {{"src/input.txt", "input 2\n"}, {"version.txt", "v2\n"}}},
        {"the command", {{"tandem.yaml", cache_yaml(port, {" && true", "", ""})}, {"version.txt", "v3\n"}}},
        {"the env", {{"tandem.yaml", cache_yaml(port, {" && true", "    env:\n      GREETING: hello\n", ""})},
                     {"version.txt", "v4\n"}}},
    };
    std::string key = web_change(state.path(), first).build_key;
    for (const Case& c : cases) {
        CAPTURE(c.what);
        const int builds_before = builds();
        const std::string digest = digest_of(*engine.runtime, "web");
        const auto commit = upstream.commit(c.files, std::string("changes ") + c.what);
        REQUIRE(engine.deployed(commit));
        CHECK(eventually([&] { return served_version(port) == c.files.at("version.txt").substr(0, 2); }, 10000ms));
        CHECK(builds() == builds_before + 1);
        CHECK(digest_of(*engine.runtime, "web") != digest);
        const AuditServiceChange change = web_change(state.path(), commit);
        CHECK(change.build == "built");
        CHECK(change.build_key != key);
        key = change.build_key;
    }
}

TEST_CASE("the build keys outlive a shipper restart: the restarted engine reuses what the first one built") {
    ShipperRun run;
    TempDir counter_dir;
    const fs::path counter = counter_dir.path() / "builds";
    // Without the sandbox, so that the build can append to a file outside its scratch copy.
    const CacheProject counting{" && echo built >> " + counter.string(), "", "    builds:\n      sandbox: false\n"};
    const auto second = run.upstream.commit({{"tandem.yaml", cache_yaml(run.port, counting)},
                                             {"version.txt", "v2\n"},
                                             {"src/input.txt", "input 1\n"}},
                                            "cached builds");
    REQUIRE_MESSAGE(eventually([&] { return run.release().value("deployed", "") == second; }, 30000ms),
                    read_text(run.log));
    CHECK(served_version(run.port) == "v2");
    REQUIRE(read_text(counter) == "built\n");
    const std::string key = web_change(run.state.path(), second).build_key;
    REQUIRE(!key.empty());

    run.engine.stop();
    BackgroundProgram restarted(run.state.path(),
                                {TANDEM_SHIPPER, "run", "--repo", run.upstream.path().string(), "--state-dir",
                                 run.state.path().string(), "--poll", "100ms", "--bootstrap"},
                                run.log);
    REQUIRE_MESSAGE(eventually([&] { return served_version(run.port) == "v2"; }, 30000ms), read_text(run.log));

    const auto data = run.upstream.commit({{"version.txt", "v3\n"}}, "data only");
    REQUIRE_MESSAGE(eventually([&] { return run.release().value("deployed", "") == data; }, 30000ms),
                    read_text(run.log));
    CHECK(eventually([&] { return served_version(run.port) == "v3"; }, 10000ms));
    CHECK(read_text(counter) == "built\n");  // the restarted engine ran no build
    const AuditServiceChange change = web_change(run.state.path(), data);
    CHECK(change.build == "reused");
    CHECK(change.build_key == key);
    restarted.stop();
}
