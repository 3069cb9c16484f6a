// What the audit log says is what happened: who asked for a change, and which files each
// service runs from.
#include "release/release_fixture.hpp"

#include <fstream>
#include <map>

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::test;

namespace {

const AuditRecord* last_of(const std::vector<AuditRecord>& records, ChangeEvent event) {
    for (auto it = records.rbegin(); it != records.rend(); ++it)
        if (it->entry.event == event) return &*it;
    return nullptr;
}

}  // namespace

TEST_CASE("a rollback from the CLI over the HTTP API is audited as the local user, not the API token") {
    ShipperRun run({"--http-port", "0"});
    auto& [upstream, state, port, first, log, engine] = run;
    auto deployed = [&](const std::string& commit) {
        return eventually([&] { return shipper(state.path(), {"history"}).out.find("* " + commit.substr(0, 12)) !=
                                       std::string::npos; },
                          30000ms);
    };
    REQUIRE_MESSAGE(deployed(first), read_text(log));
    const auto second = upstream.commit({{"version.txt", "v2\n"}}, "second");
    REQUIRE_MESSAGE(deployed(second), read_text(log));
    REQUIRE(fs::exists(state.path() / "api.json"));  // so the CLI goes through the HTTP API
    const auto rolled = shipper(state.path(), {"rollback", first.substr(0, 12)});
    CHECK_MESSAGE(rolled.exit_code == 0, rolled.err);
    const auto records = audit_records(state.path());
    const AuditRecord* rollback = last_of(records, ChangeEvent::rollback);
    REQUIRE(rollback);
    CHECK_MESSAGE(rollback->entry.actor.find("by user " + user_name() + " ") != std::string::npos, rollback->entry.actor);
    CHECK(rollback->entry.actor.find("local-cli") == std::string::npos);
    engine.stop();
}

TEST_CASE_FIXTURE(FirstRelease, "every service's audit record names the digest of the files it runs from, checked before each start") {
    const std::string nothing = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const auto records = audit_records(state.path());
    REQUIRE(!records.empty());
    std::map<std::string, std::string> digests;
    for (const auto& change : records.front().entry.services) digests[change.service] = change.new_digest;
    REQUIRE(digests.size() == 3);
    for (const auto& [service, digest] : digests) {
        CAPTURE(service);
        CHECK(digest.rfind("sha256:", 0) == 0);
        CHECK(digest != nothing);
    }
    CHECK(digests["worker"] != digests["web"]);
    const ReleaseStatus status = engine.status();
    const ReleaseRecord* kept = status.history.find(first);
    REQUIRE(kept);
    CHECK(kept->artifacts.at("worker") == digests["worker"]);  // kept for rollback

    // A committed file of worker's workdir changed behind shipper's back: the restart is refused.
    const fs::path release_file = state.path() / "releases" / first / "version.txt";
    fs::permissions(release_file, fs::perms::owner_write, fs::perm_options::add);
    { std::ofstream(release_file) << "tampered\n"; }
    auto restarted = engine.loop->trigger("worker", "test");
    REQUIRE_FALSE(restarted.ok());
    CHECK_MESSAGE(restarted.error().message.find("were modified") != std::string::npos, restarted.error().message);
}

TEST_CASE("a crash restart the supervisor carries out on its own is recorded in the audit log") {
    Upstream upstream;
    TempDir state;
    const int port = free_port();
    const auto first = upstream.commit(
        {{"tandem.yaml", project_yaml(port, {}, "    crash:\n      on_crash: restart\n")}, {"version.txt", "v1\n"}}, "first");
    Engine engine(upstream.path(), state.path());
    REQUIRE(engine.deployed(first));
    REQUIRE(eventually([&] { return !engine.status().revert_window_ends; }, 10000ms));
    pid_t worker = 0;
    for (const auto& service : engine.runtime->status())
        if (service.name == "worker" && !service.replicas.empty()) worker = static_cast<pid_t>(std::stol(service.replicas.front().handle.substr(4)));  // "pid N"
    REQUIRE(worker > 0);
    kill(worker, SIGKILL);

    auto restart_record = [&]() -> std::optional<AuditRecord> {
        for (const auto& r : audit_records(state.path()))
            if (r.entry.event == ChangeEvent::restart && r.entry.actor == "supervisor") return r;
        return std::nullopt;
    };
    REQUIRE(eventually([&] { return restart_record().has_value(); }, 15000ms));
    const AuditRecord record = *restart_record();
    CHECK(record.entry.outcome == ChangeOutcome::succeeded);
    CHECK(record.entry.commit == first);
    REQUIRE(record.entry.services.size() == 1);
    CHECK(record.entry.services.front().service == "worker");
    CHECK(record.entry.services.front().new_digest.rfind("sha256:", 0) == 0);
    CHECK_MESSAGE(record.entry.message.find("restarting in") != std::string::npos, record.entry.message);
    CHECK(record.entry.message.find("started") != std::string::npos);
    CHECK(AuditLog::verify(state.path() / "audit.jsonl").ok);
}
