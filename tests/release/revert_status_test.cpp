// After an automatic revert, status and history say what serves and why the bad commit is not
// deployed: the CLI as a user runs it, against a real engine.
#include "release/release_fixture.hpp"

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::test;
using nlohmann::json;

namespace {

json status_json(const fs::path& state) { return shipper_status(state); }

const json* service(const json& status, const std::string& name) {
    if (!status.contains("services")) return nullptr;
    for (const auto& s : status["services"])
        if (s.value("name", "") == name) return &s;
    return nullptr;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("after an automatic revert status shows the serving release as ready and the bad commit rejected with its reason") {
    Upstream upstream;
    TempDir state;
    const int port = free_port();
    const auto first = upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "first");
    const fs::path log = state.path() / "shipper.log";
    BackgroundProgram engine(state.path(),
                                       {TANDEM_SHIPPER, "run", "--repo", upstream.path().string(), "--state-dir",
                                        state.path().string(), "--poll", "100ms", "--bootstrap", "--http-port", "0"},
                                       log);
    auto release = [&] { return status_json(state.path()).value("release", json::object()); };
    REQUIRE_MESSAGE(eventually([&] { return release().value("deployed", "") == first; }, 30000ms), read_text(log));
    const auto bad = upstream.commit({{"tandem.yaml", project_yaml(port, ", --fail-health")}, {"version.txt", "v2\n"}},
                                     "breaks health");
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            const auto r = release();
                            return r.value("head", "") == bad && r.value("deployed", "") == first && !r.value("busy", true) &&
                                   r["history"]["rejected"].contains(bad);
                        },
                        30000ms),
                    read_text(log));
    CHECK(served_version(port) == "v1");

    const json status = status_json(state.path());
    const json& r = status["release"];
    CHECK(contains(r.value("head_rejected", ""), "reverted: its rollout failed"));
    CHECK(r.value("last_error", "?").empty());  // the revert succeeded: nothing is wrong now
    const json* web = service(status, "web");
    REQUIRE(web);
    CHECK_MESSAGE(web->value("state", "") == "ready", web->dump());
    // What serves is the previous release: its error, if any, says so (the failed replica is gone).
    const std::string web_error = web->value("last_error", "?");
    CHECK_MESSAGE((web_error.empty() || contains(web_error, "the previous release serves")), web->dump());

    const auto table = shipper(state.path(), {"status"});
    CHECK(contains(table.out, "head:       " + bad.substr(0, 12) + " rejected: reverted: its rollout failed"));
    CHECK_FALSE(contains(table.out, "(not deployed)"));

    const auto history = shipper(state.path(), {"history"});
    CHECK(contains(history.out, "* " + first.substr(0, 12)));
    CHECK_MESSAGE(contains(history.out, bad.substr(0, 12)), history.out);
    CHECK(contains(history.out, " rejected "));
    CHECK(contains(history.out, "[reverted: its rollout failed]"));
    CHECK(contains(history.out, "breaks health"));
    engine.stop();
}
