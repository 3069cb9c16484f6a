// A commit whose build fails: a failed deploy (event deploy, outcome failed, ErrorCode
// build_failed), not a refusal of the commit; nothing running is touched.
#include "release/release_fixture.hpp"

#include "http/api_message.hpp"

using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::test;

TEST_CASE_FIXTURE(FirstRelease, "a commit whose build fails is audited as a failed deploy, not a refusal") {
    std::string yaml = project_yaml(port);
    const std::string build = "cp version.txt out/version";
    REQUIRE(yaml.find(build) != std::string::npos);
    yaml.replace(yaml.find(build), build.size(), build + " && echo compile error >&2 && exit 3");
    const auto broken = upstream.commit({{"tandem.yaml", yaml}, {"version.txt", "v2\n"}}, "breaks the build");
    REQUIRE(eventually([&] { return engine.status().history.rejected.count(broken) > 0; }, 30000ms));
    const auto status = engine.status();
    CHECK(status.deployed == first);
    CHECK(served_version(port) == "v1");
    CHECK_MESSAGE(status.history.rejected.at(broken).rfind("build failed: ", 0) == 0, status.history.rejected.at(broken));
    const auto records = audit_records(state.path());
    REQUIRE(records.size() == 2);
    const AuditEntry& entry = records[1].entry;
    CHECK(entry.commit == broken);
    CHECK(entry.event == ChangeEvent::deploy);
    CHECK(entry.outcome == ChangeOutcome::failed);
    CHECK_MESSAGE(entry.message.rfind("build failed: build of 'web' ", 0) == 0, entry.message);
    // On disk, in the words the log has always used.
    CHECK(records[1].line.find(R"("event":"deploy")") != std::string::npos);
    CHECK(records[1].line.find(R"("outcome":"failed")") != std::string::npos);
    REQUIRE_FALSE(status.history.rejections.empty());
    CHECK(status.history.rejections.front().how == ChangeEvent::rejected);
}

TEST_CASE_FIXTURE(FirstRelease, "a sync that meets a failed build reports it failed, and the engine's API answers 500") {
    std::string yaml = project_yaml(port);
    const std::string build = "cp version.txt out/version";
    yaml.replace(yaml.find(build), build.size(), build + " && exit 3");
    const auto broken = upstream.commit({{"tandem.yaml", yaml}, {"version.txt", "v2\n"}}, "breaks the build");
    auto outcome = engine.loop->sync("sync command");
    REQUIRE(outcome.ok());
    if (outcome->event == ChangeEvent::none) {  // the poll got there first: it failed already
        CHECK(outcome->outcome == ChangeOutcome::held_back);
        CHECK(engine.status().history.rejected.at(broken).rfind("build failed: ", 0) == 0);
    } else {
        CHECK(outcome->event == ChangeEvent::deploy);
        CHECK(outcome->outcome == ChangeOutcome::failed);
        CHECK(outcome->message.rfind("build failed: ", 0) == 0);
    }
    CHECK(std::string(to_string(ErrorCode::build_failed)) == "build_failed");
    CHECK(std::string(to_string(ErrorCode::rollout_failed)) == "rollout_failed");
    CHECK(http::http_status(ErrorCode::build_failed) == 500);
    CHECK(http::http_status(ErrorCode::rollout_failed) == 500);
}
