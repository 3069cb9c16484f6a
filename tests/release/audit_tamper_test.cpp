// A tampered audit log under a real engine: shipper refuses to start on it and `audit show`
// marks it until `audit repair` records the break; signed checkpoints written by a running
// shipper catch a truncated or re-chained log that the chain alone accepts.
#include "release/release_fixture.hpp"

#include "support/audit_files.hpp"
#include "support/sha256.hpp"

#include <fstream>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::test;

namespace {

Result<std::unique_ptr<ReleaseLoop>> start_loop(const fs::path& upstream, const fs::path& state, Executor& runtime) {
    ReleaseLoop::Options options;
    options.repository = upstream.string();
    options.state_dir = state;
    options.project.default_policy = "harness";
    options.poll = Duration(100);
    return ReleaseLoop::start(options, runtime, [](const RuntimeEvent&) {});
}

}  // namespace

TEST_CASE("shipper refuses to start on a forged audit log and audit show marks it, until audit repair records the break") {
    Upstream upstream;
    TempDir state;
    const int port = free_port();
    const auto first = upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "first");
    { Engine engine(upstream.path(), state.path()); REQUIRE(engine.deployed(first)); }
    const fs::path log = state.path() / "audit.jsonl";
    const auto records = lines_of(log).size();
    // One record appended by hand after the head, chained right: the slack a crash used to leave.
    std::ofstream(log, std::ios::app) << "{\"seq\":" << records + 1 << ",\"prev\":\"" << sha256_hex(lines_of(log).back())
                                      << "\",\"time\":\"2026-12-01T00:00:00.000Z\",\"event\":\"rollback\",\"actor\":\"forger\"}\n";
    const std::string bad = "line " + std::to_string(records + 1) + " (seq " + std::to_string(records + 1) + ")";

    ExecutorOptions runtime_options;
    runtime_options.project_root = state.path() / "releases";
    runtime_options.state_dir = state.path() / "runtime";
    auto runtime = Executor::start(runtime_options, [](const RuntimeEvent&) {});
    REQUIRE(runtime);
    {
        auto refused = start_loop(upstream.path(), state.path(), **runtime);
        REQUIRE_FALSE(refused);
        const std::string message = refused.error().to_string();
        CHECK_MESSAGE(message.find(log.string()) != std::string::npos, message);
        CHECK_MESSAGE(message.find(bad) != std::string::npos, message);
        CHECK_MESSAGE(message.find("audit repair") != std::string::npos, message);
    }
    const auto shown = shipper(state.path(), {"audit", "show"});
    CHECK(shown.exit_code == 1);
    CHECK_MESSAGE(shown.out.find("forger  << BAD: " + bad) != std::string::npos, shown.out);
    CHECK_MESSAGE(shown.err.find("does not verify") != std::string::npos, shown.err);
    CHECK(shipper(state.path(), {"audit", "verify"}).exit_code == 1);

    CHECK(shipper(state.path(), {"audit", "repair"}).exit_code == 2);  // a reason is required
    const auto repaired = shipper(state.path(), {"audit", "repair", "--reason", "forged rollback kept as evidence"});
    CHECK_MESSAGE(repaired.exit_code == 0, repaired.err);
    CHECK_MESSAGE(repaired.out.find("recorded as seq " + std::to_string(records + 2)) != std::string::npos, repaired.out);
    const auto verified = shipper(state.path(), {"audit", "verify"});
    CHECK_MESSAGE(verified.exit_code == 0, verified.err);
    CHECK_MESSAGE(verified.out.find("an audit repair closed the segment before it") != std::string::npos, verified.out);
    CHECK(shipper(state.path(), {"audit", "show"}).exit_code == 0);

    auto started = start_loop(upstream.path(), state.path(), **runtime);
    REQUIRE_MESSAGE(started.ok(), (started ? "" : started.error().to_string()));
    (*started)->wait_idle();
    started->reset();
    (*runtime)->stop_all();
    const auto after = audit_records(state.path());
    REQUIRE(after.size() >= records + 2);
    CHECK(after[records + 1].entry.event == ChangeEvent::audit_repair);
    CHECK(after[records + 1].entry.actor.starts_with("audit repair command by user " + user_name() + " (pid "));
    CHECK_MESSAGE(shipper(state.path(), {"audit", "verify"}).exit_code == 0, shipper(state.path(), {"audit", "verify"}).err);
}

TEST_CASE("shipper run signs checkpoints, and verify --checkpoints catches a truncated and a re-chained log") {
    Upstream upstream;
    TempDir state, keys;
    const int port = free_port();
    const auto first = upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "first");
    const fs::path key = keys.path() / "audit_key", signers = keys.path() / "allowed_signers";
    const fs::path checkpoints = keys.path() / "checkpoints.git";
    REQUIRE(run_command({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "audit@test", "-f", key.string()}).exit_code == 0);
    std::ofstream(signers) << "audit@test namespaces=\"tandem-audit\" " << read_text(key.string() + ".pub");
    {
        BackgroundProgram engine(state.path(),
                                 {TANDEM_SHIPPER, "run", "--repo", upstream.path().string(), "--state-dir",
                                  state.path().string(), "--poll", "100ms", "--bootstrap", "--http-port", "off",
                                  "--checkpoint-key", key.string(), "--checkpoint-repo", checkpoints.string()},
                                 state.path() / "shipper.log");
        REQUIRE(eventually([&] { return shipper_status(state.path()).value("release", nlohmann::json::object())
                                            .value("deployed", "") == first; }, 30s));
        const auto second = upstream.commit({{"version.txt", "v2\n"}}, "second");
        REQUIRE(eventually([&] { return shipper_status(state.path()).value("release", nlohmann::json::object())
                                            .value("deployed", "") == second; }, 30s));
    }  // stopped: the last checkpoint names the last record
    const fs::path log = state.path() / "audit.jsonl";
    const auto lines = lines_of(log);
    REQUIRE(lines.size() >= 2);
    const std::vector<std::string> with_checkpoints{"audit", "verify", "--checkpoints", checkpoints.string(),
                                                    "--allowed-signers", signers.string()};
    const auto clean = shipper(state.path(), with_checkpoints);
    CHECK_MESSAGE(clean.exit_code == 0, (clean.err + read_text(state.path() / "shipper.log")));
    CHECK_MESSAGE(clean.out.find("signed checkpoint(s) match the log (newest: seq " + std::to_string(lines.size()) + ")") !=
                      std::string::npos, clean.out);

    SUBCASE("truncated, log and head together") {
        rechain(log, {lines.begin(), lines.end() - 1});
        CHECK(shipper(state.path(), {"audit", "verify"}).exit_code == 0);
        const auto checked = shipper(state.path(), with_checkpoints);
        CHECK(checked.exit_code == 1);
        CHECK_MESSAGE(checked.err.find("has no record with seq " + std::to_string(lines.size())) != std::string::npos, checked.err);
        CHECK_MESSAGE(checked.err.find("the log was truncated") != std::string::npos, checked.err);
    }
    SUBCASE("re-chained with valid hashes") {
        auto edited = lines;
        const auto at = edited[0].find("\"actor\":\"");
        REQUIRE(at != std::string::npos);
        edited[0].insert(at + 9, "someone else, ");
        rechain(log, edited);
        CHECK(shipper(state.path(), {"audit", "verify"}).exit_code == 0);
        const auto checked = shipper(state.path(), with_checkpoints);
        CHECK(checked.exit_code == 1);
        CHECK_MESSAGE(checked.err.find("the log was rewritten (re-chained)") != std::string::npos, checked.err);
    }
}
