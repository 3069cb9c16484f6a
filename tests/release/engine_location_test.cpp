// Commands find the running engine from anywhere inside the project, walking up as git does,
// and say where they looked when there is none.
#include "release/release_fixture.hpp"

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::test;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("shipper status and history from a subdirectory find the engine run in a directory above") {
    Upstream upstream;
    TempDir top;
    const int port = free_port();
    const auto first = upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "first");
    fs::create_directories(top.path() / "deploy/a/b");
    const fs::path deploy = top.path() / "deploy";
    BackgroundProgram engine(deploy,
                                  {TANDEM_SHIPPER, "run", "--repo", upstream.path().string(), "--poll", "100ms",
                                   "--bootstrap", "--http-port", "0"},
                                  top.path() / "shipper.log");
    const fs::path inside = deploy / "a/b";
    auto deployed_seen_from_inside = [&] {
        const auto result = run_command({TANDEM_SHIPPER, "status", "-o", "json"}, inside);
        if (result.exit_code != 0) return false;
        const auto j = nlohmann::json::parse(result.out, nullptr, false);
        return j.is_object() && j.value("release", nlohmann::json::object()).value("deployed", "") == first;
    };
    CHECK_MESSAGE(eventually(deployed_seen_from_inside, 30000ms), read_text(top.path() / "shipper.log"));
    const auto history = run_command({TANDEM_SHIPPER, "history"}, inside);
    CHECK(history.exit_code == 0);
    CHECK(contains(history.out, "* " + first.substr(0, 12)));
    const auto verified = run_command({TANDEM_SHIPPER, "audit", "verify"}, inside);
    CHECK_MESSAGE(verified.exit_code == 0, verified.err);
    engine.stop();
}

TEST_CASE("shipper and devloop status with no engine anywhere above name every directory they checked") {
    TempDir top;
    fs::create_directories(top.path() / "x/y");
    const fs::path inside = top.path() / "x/y";
    const auto shipper = run_command({TANDEM_SHIPPER, "status"}, inside);
    CHECK(shipper.exit_code == 1);
    CHECK(contains(shipper.err, ".shipper/control.sock"));
    for (const fs::path& dir : {inside, top.path() / "x", top.path(), fs::path("/")})
        CHECK_MESSAGE(contains(shipper.err, dir.string()), shipper.err);
    const auto devloop = run_command({TANDEM_DEVLOOP, "status"}, inside);
    CHECK(devloop.exit_code == 1);
    CHECK(contains(devloop.err, ".tandem/control.sock in " + inside.string() + ", " + (top.path() / "x").string()));
    const auto history = run_command({TANDEM_SHIPPER, "history"}, inside);
    CHECK(contains(history.out, "looked for .shipper/ in " + inside.string()));
}

TEST_CASE("devloop status from a subdirectory of the project finds devloop up's engine") {
    TempDir project;
    const int port = free_port();
    project.write("tandem.yaml", "version: 1\nservices:\n  api:\n    run: [" + std::string(TANDEM_TEST_SERVICE) +
                                     ", --port, \"${port}\"]\n    port: " + std::to_string(port) + "\n");
    fs::create_directories(project.path() / "src/deep");
    BackgroundProgram engine(project.path(), {TANDEM_DEVLOOP, "up", "--http-port", "off"}, project.path() / "up.log");
    auto served_from_inside = [&] {
        const auto result = run_command({TANDEM_DEVLOOP, "status", "-o", "json"}, project.path() / "src/deep");
        return result.exit_code == 0 && contains(result.out, "\"api\"");
    };
    CHECK_MESSAGE(eventually(served_from_inside, 20000ms), read_text(project.path() / "up.log"));
    engine.stop();
}
