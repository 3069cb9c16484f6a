// Container services from the command line: plans show what the containers run, the harness
// policy refuses bind mounts, and `devloop up` refuses container services when no Docker daemon
// answers.
#include <doctest/doctest.h>

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using tandem::test::CommandResult;
using tandem::test::run_command;
using tandem::test::TempDir;

namespace {

constexpr const char* kMixed =
    "version: 1\n"
    "services:\n"
    "  api:\n"
    "    run: ./api\n"
    "    port: 18090\n"
    "  web:\n"
    "    image: web:1.2\n"
    "    command: [/web, --port, '8080']\n"
    "    port: 18091\n"
    "    volumes: [data:/data, ./src:/app/src:ro]\n"
    "    depends_on: [api]\n";

CommandResult devloop(const std::vector<std::string>& args, const fs::path& cwd) {
    std::vector<std::string> argv{TANDEM_DEVLOOP};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, cwd);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("devloop plan shows a container service's image, command and volumes") {
    TempDir dir;
    dir.write("tandem.yaml", kMixed);
    auto json = devloop({"plan", "--output", "json"}, dir.path());
    REQUIRE_MESSAGE(json.exit_code == 0, json.err);
    const auto plan = nlohmann::json::parse(json.out);
    nlohmann::json web;
    for (const auto& wave : plan["waves"])
        for (const auto& step : wave["steps"])
            if (step["service"] == "web") web = step["actions"].back();
    REQUIRE_FALSE(web.is_null());
    const auto& container = web["container"];
    CHECK(container["image"] == "web:1.2");
    CHECK(container["command"] == nlohmann::json::array({"/web", "--port", "8080"}));
    CHECK(container["pin_digest"] == false);
    REQUIRE(container["volumes"].size() == 2);
    CHECK(container["volumes"][0] ==
          nlohmann::json{{"kind", "named"}, {"source", "data"}, {"target", "/data"}, {"read_only", false}});
    CHECK(container["volumes"][1]["kind"] == "bind");
    CHECK(container["volumes"][1]["source"] == "src");

    auto table = devloop({"plan"}, dir.path());
    REQUIRE_MESSAGE(table.exit_code == 0, table.err);
    CHECK(contains(table.out, "image web:1.2"));
    CHECK(contains(table.out, "volumes data:/data, ./src:/app/src:ro"));
}

TEST_CASE("under harness a bind mount is refused naming the service, the volume and the knob") {
    TempDir dir;
    dir.write("tandem.yaml", kMixed);
    auto plan = devloop({"plan", "--policy", "harness"}, dir.path());
    CHECK(plan.exit_code != 0);
    INFO(plan.err);
    CHECK(contains(plan.err, "tandem.yaml:10:27: service 'web' mounts the host directory 'src' (volume "
                             "'./src:/app/src:ro'), which policy 'harness' refuses (containers.bind_mounts: deny)"));
    dir.write("tandem.yaml", std::string(kMixed).replace(std::string(kMixed).find(", ./src:/app/src:ro"), 19, ""));
    auto named_only = devloop({"plan", "--policy", "harness", "--bootstrap", "--output", "json"}, dir.path());
    REQUIRE_MESSAGE(named_only.exit_code == 0, named_only.err);
    CHECK(contains(named_only.out, "\"pin_digest\": true"));
}

TEST_CASE("devloop up refuses a container service when the Docker daemon does not answer, before it starts anything") {
    TempDir dir;
    dir.write("tandem.yaml", kMixed);
    auto up = run_command({"/usr/bin/env", "DOCKER_HOST=unix://" + (dir.path() / "no-docker.sock").string(),
                           TANDEM_DEVLOOP, "up"},
                          dir.path());
    CHECK(up.exit_code != 0);
    INFO(up.err);
    CHECK(contains(up.err, "tandem.yaml:7:12: service 'web' runs in a container, and the Docker daemon at " +
                               (dir.path() / "no-docker.sock").string() + " does not answer"));
    CHECK_FALSE(fs::exists(dir.path() / ".tandem" / "control.sock"));
}
