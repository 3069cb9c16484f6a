// A small compose project must not expand without end: nested defaults, .env values built from
// each other, substitutions repeated across a document, env files and Procfiles past 1 MiB.
#include <doctest/doctest.h>

#include "config/interpolation.hpp"
#include "support/temp_dir.hpp"

#include <tandem/project.hpp>

#include <fmt/format.h>

#include <map>
#include <string>

using namespace tandem;

namespace {

ProjectOptions quiet(std::map<std::string, std::string> environment = {}) {
    ProjectOptions options;
    options.default_policy = "wip";
    options.environment = std::move(environment);
    return options;
}

Error load_error(const test::TempDir& dir, const ProjectOptions& options = quiet()) {
    auto project = load_project(dir.path(), options);
    REQUIRE_FALSE(project.ok());
    return project.error();
}

}  // namespace

TEST_CASE("compose limits: defaults nested deeper than 32 levels are refused, not recursed into") {
    std::string nested;
    for (int i = 0; i < 100000; ++i) nested += "${A:-";
    nested += "x";
    nested += std::string(100000, '}');
    auto value = config::interpolate(nested, [](const std::string&) { return std::nullopt; });
    REQUIRE_FALSE(value.ok());
    CHECK(value.error().message.find("variables nest deeper than 32 levels") != std::string::npos);

    std::string shallow;
    for (int i = 0; i < 30; ++i) shallow += "${A:-";
    shallow += "x" + std::string(30, '}');
    CHECK(config::interpolate(shallow, [](const std::string&) { return std::nullopt; }).value() == "x");
}

TEST_CASE("compose limits: a .env whose values double at each line is refused past 1 MiB") {
    test::TempDir dir;
    std::string env = "A=" + std::string(1000, 'a') + "\n";
    for (int i = 0; i < 30; ++i) env += fmt::format("V{}=${{{}}}${{{}}}\n", i, i == 0 ? "A" : "V" + std::to_string(i - 1),
                                                    i == 0 ? "A" : "V" + std::to_string(i - 1));
    dir.write(".env", env);
    dir.write("compose.yaml", "services:\n  web:\n    image: web:1\n");
    const Error error = load_error(dir);
    INFO(error.to_string());
    CHECK(error.location.file == ".env");
    CHECK(error.message.find("expands to more than 1048576 bytes") != std::string::npos);
}

TEST_CASE("compose limits: one large variable used across the document is refused past 16 MiB in all") {
    test::TempDir dir;
    std::string compose = "services:\n  web:\n    image: web:1\n    environment:\n";
    for (int i = 0; i < 40; ++i) compose += fmt::format("      V{}: ${{BIG}}\n", i);
    dir.write("compose.yaml", compose);
    const Error error = load_error(dir, quiet({{"BIG", std::string(1000000, 'b')}}));
    INFO(error.to_string().substr(0, 300));
    CHECK(error.code == ErrorCode::syntax);
    CHECK(error.message.find("expand to more than 16777216 bytes once variables are substituted") != std::string::npos);
    CHECK(error.location.file == "compose.yaml");
    CHECK(error.location.line > 4);
}

TEST_CASE("compose limits: an env file or a Procfile over 1 MiB is refused naming it") {
    test::TempDir dir;
    dir.write("big.env", std::string(2 << 20, '#'));
    dir.write("compose.yaml", "services:\n  web:\n    image: web:1\n    env_file: big.env\n");
    const Error error = load_error(dir);
    CHECK(error.message.find("'big.env' is 2097152 bytes, more than 1048576") != std::string::npos);

    test::TempDir procfile;
    procfile.write("Procfile", "web: ./web\n" + std::string(2 << 20, '#'));
    CHECK(load_error(procfile).message.find("'Procfile' is") != std::string::npos);
}
