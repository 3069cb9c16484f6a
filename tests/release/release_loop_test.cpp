// shipper's loop end to end: real repositories made with git, real builds into the store, real
// rollouts of test services behind the proxy, the audit log and history on disk.
#include "release/release_fixture.hpp"

#include <tandem/artifact_store.hpp>

#include <sys/stat.h>

#include <fstream>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::test;

namespace {

int pid_of(Executor& runtime, const std::string& service) {
    for (const auto& s : runtime.status())
        if (s.name == service && !s.replicas.empty()) return static_cast<pid_t>(std::stol(s.replicas.front().handle.substr(4)));  // "pid N"
    return 0;
}

std::string digest_of(Executor& runtime, const std::string& service) {
    for (const auto& s : runtime.status())
        if (s.name == service) return s.artifact_digest;
    return {};
}

const AuditServiceChange* change_of(const AuditRecord& record, const std::string& service) {
    for (const auto& c : record.entry.services)
        if (c.service == service) return &c;
    return nullptr;
}

}  // namespace

TEST_CASE_FIXTURE(FirstRelease, "a commit rolls out from the store, and the next one touches only the service it changes") {
    CHECK(served_version(port) == "v1");

    // The service runs the stored artifact: read-only, named by its digest, linked from the release.
    const std::string digest_v1 = digest_of(*engine.runtime, "web");
    REQUIRE(digest_v1.rfind("sha256:", 0) == 0);
    ArtifactStore store(state.path() / "store");
    CHECK(store.verify(digest_v1).ok());
    const fs::path linked = state.path() / "releases" / first / "out";
    CHECK(fs::is_symlink(linked));
    CHECK(fs::read_symlink(linked) == store.path_of(digest_v1) / "out");
    struct stat info {};
    REQUIRE(stat((store.path_of(digest_v1) / "out" / "version").c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0444);

    const int worker_pid = pid_of(*engine.runtime, "worker");
    const auto second = upstream.commit({{"version.txt", "v2\n"}}, "second");
    REQUIRE(engine.deployed(second));
    CHECK(served_version(port) == "v2");
    CHECK(pid_of(*engine.runtime, "worker") == worker_pid);  // not touched
    CHECK(digest_of(*engine.runtime, "web") != digest_v1);

    const auto records = audit_records(state.path());
    REQUIRE(records.size() == 2);
    CHECK(records[0].entry.event == ChangeEvent::bootstrap);
    CHECK(records[0].entry.incident);
    CHECK(records[0].entry.commit == first);
    CHECK(records[1].entry.event == ChangeEvent::deploy);
    CHECK(records[1].entry.outcome == ChangeOutcome::succeeded);
    CHECK(records[1].entry.author == "tandem test <test@tandem.invalid>");
    CHECK(records[1].entry.previous_commit == first);
    CHECK(records[1].entry.actor == "poll");
    REQUIRE(records[1].entry.services.size() == 1);
    const auto* web = change_of(records[1], "web");
    REQUIRE(web);
    CHECK(web->old_digest == digest_v1);
    CHECK(web->new_digest == digest_of(*engine.runtime, "web"));
    CHECK(records[1].entry.build_ms >= 0);
    CHECK(records[1].entry.rollout_ms >= 0);
    CHECK(AuditLog::verify(state.path() / "audit.jsonl").ok);
}

TEST_CASE_FIXTURE(FirstRelease, "commits that arrive during a rollout coalesce: only the newest is deployed next") {
    // The new replicas of `slow` start only once the test opens a gate, so its rollout lasts
    // until two more commits have been made, however loaded the machine.
    TempDir gate_dir;
    const fs::path gate = gate_dir.path() / "open";
    std::string yaml = project_yaml(port, ", --start-when, \"" + gate.string() + "\"");
    const std::string gate_timeout = "gate_timeout: 2s";  // long enough for the gate to be opened
    REQUIRE(yaml.find(gate_timeout) != std::string::npos);
    yaml.replace(yaml.find(gate_timeout), gate_timeout.size(), "gate_timeout: 60s");
    const auto slow = upstream.commit({{"tandem.yaml", yaml}, {"version.txt", "v2\n"}}, "slow");
    REQUIRE(eventually([&] { return engine.status().busy && engine.status().head == slow; }, 10000ms));
    const auto skipped = upstream.commit({{"version.txt", "v3\n"}}, "skipped");
    const auto newest = upstream.commit({{"version.txt", "v4\n"}}, "newest");
    CHECK(engine.status().busy);  // still rolling `slow` out: no fetch until it ends
    std::ofstream(gate) << "open\n";
    REQUIRE(engine.deployed(newest));
    CHECK(served_version(port) == "v4");
    std::vector<std::string> deployed;
    std::string seen;  // for the failure message: short id (event/outcome) of every record
    for (const auto& r : audit_records(state.path())) {
        deployed.push_back(r.entry.commit);
        seen += r.entry.commit.substr(0, 7) + " (" + to_string(r.entry.event) + "/" + to_string(r.entry.outcome) + ") ";
    }
    INFO("audit records: " << seen << "; skipped is " << skipped.substr(0, 7));
    // The commit in between is never deployed; the newest follows the slow one.
    CHECK(std::find(deployed.begin(), deployed.end(), skipped) == deployed.end());
    REQUIRE(deployed.size() >= 3);
    CHECK(deployed.front() == first);
    CHECK(deployed[1] == slow);
    CHECK(deployed.back() == newest);
    for (const auto& r : engine.status().history.releases) CHECK(r.commit != skipped);
}

TEST_CASE_FIXTURE(FirstRelease, "a commit whose replicas never become healthy is reverted automatically and held back") {
    const std::string good_digest = digest_of(*engine.runtime, "web");

    const auto bad = upstream.commit({{"tandem.yaml", project_yaml(port, ", --fail-health")}, {"version.txt", "v2\n"}},
                                     "breaks health");
    REQUIRE(eventually([&] { return engine.status().history.rejected.count(bad) > 0; }, 20000ms));
    REQUIRE(engine.deployed(first));
    CHECK(served_version(port) == "v1");
    CHECK(digest_of(*engine.runtime, "web") == good_digest);

    const auto records = audit_records(state.path());
    REQUIRE(records.size() >= 3);
    CHECK(records[1].entry.commit == bad);
    CHECK(records[1].entry.outcome == ChangeOutcome::failed);
    CHECK(records[2].entry.event == ChangeEvent::revert);
    CHECK(records[2].entry.commit == first);
    CHECK(records[2].entry.outcome == ChangeOutcome::succeeded);
    CHECK(records[2].entry.actor == "auto-revert");

    // Polls keep seeing the bad commit at the head of main, and leave it alone.
    std::this_thread::sleep_for(500ms);
    CHECK(audit_records(state.path()).size() == records.size());
    CHECK(engine.status().deployed == first);

    const auto fixed = upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v3\n"}}, "fixed");
    REQUIRE(engine.deployed(fixed));
    CHECK(served_version(port) == "v3");
}

TEST_CASE_FIXTURE(FirstRelease, "a release that crashes within the window after its rollout is reverted") {
    // Healthy at first (the probe's requests count), then it aborts: a crash after the rollout.
    const auto crashing = upstream.commit(
        {{"tandem.yaml", project_yaml(port, ", --crash-after, \"15\"")}, {"version.txt", "v2\n"}}, "crashes later");
    REQUIRE(eventually([&] { return engine.status().history.rejected.count(crashing) > 0; }, 20000ms));
    REQUIRE(engine.deployed(first));
    CHECK(served_version(port) == "v1");
    const auto records = audit_records(state.path());
    REQUIRE(records.size() == 3);
    CHECK(records[1].entry.commit == crashing);
    CHECK(records[2].entry.event == ChangeEvent::revert);
    CHECK(records[2].entry.commit == first);
}

TEST_CASE_FIXTURE(FirstRelease, "rollback redeploys the kept artifacts byte for byte without a build, pinned until a newer commit") {
    const std::string digest_v1 = digest_of(*engine.runtime, "web");
    ArtifactStore store(state.path() / "store");
    const std::string bytes_v1 = read_text(store.path_of(digest_v1) / "out" / "svc");
    const auto second = upstream.commit({{"version.txt", "v2\n"}}, "second");
    REQUIRE(engine.deployed(second));

    const int builds_before = engine.events.count(RuntimeEventKind::action, "build", "web");
    auto outcome = engine.loop->rollback("", "user test");
    REQUIRE_MESSAGE(outcome.ok(), outcome.error().to_string());
    CHECK(outcome->outcome == ChangeOutcome::succeeded);
    CHECK(engine.status().deployed == first);
    CHECK(engine.status().pinned);
    CHECK(served_version(port) == "v1");
    CHECK(digest_of(*engine.runtime, "web") == digest_v1);
    CHECK(read_text(store.path_of(digest_v1) / "out" / "svc") == bytes_v1);
    CHECK(read_text(state.path() / "releases" / first / "out" / "version") == "v1\n");
    CHECK(engine.events.count(RuntimeEventKind::action, "build", "web") == builds_before);

    // The head is still `second`: pinned, it is not deployed again.
    std::this_thread::sleep_for(500ms);
    CHECK(engine.status().deployed == first);
    const auto third = upstream.commit({{"version.txt", "v3\n"}}, "third");
    REQUIRE(engine.deployed(third));
    CHECK_FALSE(engine.status().pinned);
    CHECK(served_version(port) == "v3");

    auto unknown = engine.loop->rollback("0123456789ab", "user test");
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().message.find("is not one of the") != std::string::npos);
}

TEST_CASE_FIXTURE(FirstRelease, "a commit with a symlink out of its tree is refused and recorded, nothing changes") {
    fs::create_symlink("../../../../etc/passwd", upstream.path() / "passwords");
    const auto evil = upstream.commit({{"version.txt", "v2\n"}}, "escape");
    REQUIRE(eventually([&] { return engine.status().history.rejected.count(evil) > 0; }, 10000ms));
    CHECK(engine.status().deployed == first);
    CHECK(engine.status().last_error.find("passwords") != std::string::npos);
    CHECK(served_version(port) == "v1");
    CHECK_FALSE(fs::exists(state.path() / "snapshots" / evil));
    const auto records = audit_records(state.path());
    REQUIRE(records.size() == 2);
    CHECK(records[1].entry.event == ChangeEvent::refused);
    CHECK(records[1].entry.commit == evil);
}

TEST_CASE_FIXTURE(FirstRelease, "a build output symlinked out of the build directory is refused; the release stays") {
    // The code the link points to lies outside every digest: changing it later would change
    // what `shipper restart` runs (issue 13, defect 3).
    TempDir outside;
    const fs::path external = outside.path() / "svc";
    fs::copy_file(TANDEM_TEST_SERVICE, external);
    fs::permissions(external, fs::perms::owner_all);
    std::string yaml = project_yaml(port);
    const std::string build = "cp version.txt out/version";
    REQUIRE(yaml.find(build) != std::string::npos);
    yaml.replace(yaml.find(build), build.size(), build + " && ln -sf " + external.string() + " out/svc");
    const auto linked = upstream.commit({{"tandem.yaml", yaml}, {"version.txt", "v2\n"}}, "link out");
    REQUIRE(eventually([&] { return engine.status().history.rejected.count(linked) > 0; }, 30000ms));
    const auto status = engine.status();
    CHECK(status.deployed == first);
    CHECK_MESSAGE(status.last_error.find("'out/svc'") != std::string::npos, status.last_error);
    CHECK_MESSAGE(status.last_error.find(external.string()) != std::string::npos, status.last_error);
    CHECK(served_version(port) == "v1");
    const auto records = audit_records(state.path());
    REQUIRE(records.size() == 2);
    CHECK(records[1].entry.commit == linked);
    CHECK(records[1].entry.outcome == ChangeOutcome::failed);
    CHECK(records[1].entry.message.find(external.string()) != std::string::npos);
}

TEST_CASE_FIXTURE(FirstRelease, "a database reset is refused by the harness policy, touches nothing and is audited") {
    const int db_pid = pid_of(*engine.runtime, "db");
    auto reset = engine.loop->reset("db", "user test");
    REQUIRE_FALSE(reset.ok());
    CHECK(reset.error().code == ErrorCode::policy_denied);
    CHECK(pid_of(*engine.runtime, "db") == db_pid);
    const auto records = audit_records(state.path());
    REQUIRE(records.size() == 2);
    CHECK(records[1].entry.event == ChangeEvent::policy_refusal);
    CHECK(records[1].entry.actor == "user test");
}

TEST_CASE("bringing everything up from nothing without --bootstrap is refused and recorded") {
    Upstream upstream;
    TempDir state;
    const int port = free_port();
    const auto first = upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "first");
    Engine engine(upstream.path(), state.path(), /*bootstrap=*/false);
    REQUIRE(eventually([&] { return !engine.status().last_error.empty(); }, 10000ms));
    CHECK(engine.status().last_error.find("--bootstrap") != std::string::npos);
    CHECK(engine.status().deployed.empty());
    CHECK(engine.runtime->status().empty());
    std::this_thread::sleep_for(300ms);  // polls do not record the same refusal again
    const auto records = audit_records(state.path());
    REQUIRE(records.size() == 1);
    CHECK(records[0].entry.outcome == ChangeOutcome::refused);
    CHECK(records[0].entry.commit == first);
}

TEST_CASE("with allowed signers, only commits whose SSH signature verifies are deployed, the others are refused") {
    TempDir keys;
    const fs::path key = keys.path() / "deployer";
    const auto made = run_command({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.string(), "-C", "deployer"});
    REQUIRE_MESSAGE(made.exit_code == 0, made.err);
    keys.write("allowed_signers", "deployer@example.com namespaces=\"git\" " + read_text(key.string() + ".pub"));

    Upstream upstream;
    TempDir state;
    const int port = free_port();
    const auto first = upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "signed", key);
    Engine engine(upstream.path(), state.path(), true, Duration(100), keys.path() / "allowed_signers");
    REQUIRE(engine.deployed(first));

    const auto unsigned_commit = upstream.commit({{"version.txt", "v2\n"}}, "not signed");
    REQUIRE(eventually([&] { return engine.status().history.rejected.count(unsigned_commit) > 0; }, 10000ms));
    CHECK(engine.status().deployed == first);
    CHECK(served_version(port) == "v1");
    CHECK(engine.status().last_error.find("not signed") != std::string::npos);

    const auto signed_again = upstream.commit({{"version.txt", "v3\n"}}, "signed again", key);
    REQUIRE(engine.deployed(signed_again));
    CHECK(served_version(port) == "v3");
    const auto records = audit_records(state.path());
    REQUIRE(records.size() == 3);
    CHECK(records[1].entry.commit == unsigned_commit);
    CHECK(records[1].entry.event == ChangeEvent::policy_refusal);
    CHECK(records[1].entry.outcome == ChangeOutcome::refused);
}

TEST_CASE("an engine restarted after a rollback restores the rolled-back release and keeps the pin") {
    Upstream upstream;
    TempDir state;
    const int port = free_port();
    const auto first = upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "first");
    auto engine = std::make_unique<Engine>(upstream.path(), state.path());
    REQUIRE(engine->deployed(first));
    const auto second = upstream.commit({{"version.txt", "v2\n"}}, "second");
    REQUIRE(engine->deployed(second));
    auto outcome = engine->loop->rollback("", "user test");
    REQUIRE_MESSAGE(outcome.ok(), outcome.error().to_string());
    REQUIRE(engine->status().pinned);

    engine.reset();  // every service stopped, as after a crash of the engine
    CHECK(served_version(port).empty());
    engine = std::make_unique<Engine>(upstream.path(), state.path(), /*bootstrap=*/false);
    REQUIRE(eventually([&] { return served_version(port) == "v1"; }, 30000ms));
    CHECK(engine->deployed(first));
    std::this_thread::sleep_for(500ms);  // polls see `second` at the head, and leave it
    CHECK(engine->status().deployed == first);
    CHECK(engine->status().pinned);
    CHECK(audit_records(state.path()).back().entry.event == ChangeEvent::recover);
}
