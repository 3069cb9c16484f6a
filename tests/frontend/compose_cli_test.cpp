// Compose files from the command line: found without -f, -f given twice merges, --profile,
// warnings on stderr each once (and in validate's JSON), convert to stdout or into a FILE.
#include <doctest/doctest.h>

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using tandem::test::CommandResult;
using tandem::test::run_command;
using tandem::test::TempDir;

namespace {

CommandResult devloop(const std::vector<std::string>& args, const fs::path& cwd) {
    std::vector<std::string> argv{"/usr/bin/env", "-u", "TAG", "-u", "COMPOSE_PROFILES", TANDEM_DEVLOOP};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, cwd);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::size_t count(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

std::string read(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

constexpr const char* kCompose =
    "services:\n"
    "  web:\n"
    "    image: web:${TAG:-1}\n"
    "    container_name: the-web\n"
    "    ports: [\"127.0.0.1:8080:80\"]\n"
    "  debug:\n"
    "    image: tools:1\n"
    "    profiles: [debug]\n";

}  // namespace

TEST_CASE("devloop finds compose.yaml, prints each warning once on stderr, and lists them in validate's JSON") {
    TempDir dir;
    dir.write("compose.yaml", kCompose);
    const auto table = devloop({"validate"}, dir.path());
    REQUIRE_MESSAGE(table.exit_code == 0, table.err);
    CHECK(contains(table.out, "compose.yaml is valid: project '"));
    CHECK(contains(table.out, "1 service (web)"));
    CHECK(count(table.err, "warning: compose.yaml:4:5: 'services.web.container_name': ignored: ") == 1);

    const auto json = devloop({"validate", "-o", "json"}, dir.path());
    REQUIRE_MESSAGE(json.exit_code == 0, json.err);
    CHECK(json.err.empty());
    const auto document = nlohmann::json::parse(json.out);
    REQUIRE(document["warnings"].size() == 1);
    CHECK(document["warnings"][0]["line"] == 4);
    CHECK(document["warnings"][0]["column"] == 5);
    CHECK(document["file"] == "compose.yaml");

    const auto profiled = devloop({"validate", "--profile", "debug"}, dir.path());
    REQUIRE_MESSAGE(profiled.exit_code == 0, profiled.err);
    CHECK(contains(profiled.out, "2 services (web, debug)"));
}

TEST_CASE("-f given twice merges the second compose file over the first, and a tandem.yaml is one file") {
    TempDir dir;
    dir.write("compose.yaml", kCompose);
    dir.write("compose.prod.yaml", "services:\n  web:\n    image: web:2\n    deploy: {replicas: 3}\n");
    const auto merged = devloop({"-f", "compose.yaml", "-f", "compose.prod.yaml", "convert"}, dir.path());
    REQUIRE_MESSAGE(merged.exit_code == 0, merged.err);
    CHECK(contains(merged.out, "image: web:2"));
    CHECK(contains(merged.out, "replicas: 3"));

    dir.write("tandem.yaml", "version: 1\nservices:\n  web:\n    run: ./web\n");
    const auto refused = devloop({"-f", "tandem.yaml", "-f", "compose.prod.yaml", "validate"}, dir.path());
    CHECK(refused.exit_code != 0);
    CHECK(contains(refused.err, "-f names 2 files, but only compose files are merged; 'tandem.yaml' is one file"));
}

TEST_CASE("devloop convert FILE writes a tandem.yaml that loads as the same project, and never over a file") {
    TempDir dir;
    dir.write("compose.yaml", kCompose);
    const auto wrote = devloop({"convert", "tandem.yaml"}, dir.path());
    REQUIRE_MESSAGE(wrote.exit_code == 0, wrote.err);
    CHECK(contains(wrote.out, "wrote tandem.yaml from compose.yaml"));
    CHECK(contains(read(dir.path() / "tandem.yaml"), "image: web:1"));
    CHECK_FALSE(fs::exists(dir.path() / "tandem.yaml.converting"));
    // tandem.yaml is the project now.
    const auto validated = devloop({"validate"}, dir.path());
    REQUIRE_MESSAGE(validated.exit_code == 0, validated.err);
    CHECK(contains(validated.out, "tandem.yaml is valid"));
    CHECK(validated.err.empty());

    const auto again = devloop({"-f", "compose.yaml", "convert", "tandem.yaml"}, dir.path());
    CHECK(again.exit_code != 0);
    CHECK(contains(again.err, "'tandem.yaml' exists and is not empty: remove it or name another file"));
}
