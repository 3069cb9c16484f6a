// Compose habits of real projects that need more than key-by-key translation: a web image that
// its workers reuse by name, and variables left unset.
#include <doctest/doctest.h>

#include "support/temp_dir.hpp"

#include <tandem/project.hpp>

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

std::string warnings_of(const Project& project) {
    std::string out;
    for (const Error& warning : project.warnings) out += warning.to_string() + "\n";
    return out;
}

}  // namespace

TEST_CASE("compose patterns: a worker naming the image its web service builds is built from the same build") {
    test::TempDir dir;
    dir.write("compose.yaml",
              "services:\n"
              "  web:\n"
              "    build: {context: ., args: {RELEASE: \"1\"}}\n"
              "    image: shop/app:latest\n"
              "    command: gunicorn app:app\n"
              "  worker:\n"
              "    image: shop/app:latest\n"
              "    command: celery -A app worker\n"
              "  cache:\n"
              "    image: redis:7\n");
    auto project = load_project(dir.path(), quiet());
    REQUIRE_MESSAGE(project.ok(), project.error().to_string());
    const ServiceSpec* web = project->spec.find("web");
    const ServiceSpec* worker = project->spec.find("worker");
    REQUIRE(web);
    REQUIRE(worker);
    REQUIRE(worker->container->build);
    CHECK(worker->container->image.empty());
    CHECK(worker->container->build->context == web->container->build->context);
    CHECK(worker->container->build->args == web->container->build->args);
    CHECK(worker->container->command == std::vector<std::string>{"celery", "-A", "app", "worker"});
    CHECK(project->spec.find("cache")->container->image == "redis:7");
    const std::string said = warnings_of(*project);
    INFO(said);
    CHECK(said.find("compose.yaml:7:5: 'services.worker.image': 'shop/app:latest' is the image service 'web' "
                    "builds: built here from its 'build:' too") != std::string::npos);
    CHECK(said.find("compose.yaml:4:5: 'services.web.image': the image is built from 'build:'") != std::string::npos);
}

TEST_CASE("compose patterns: a variable used without a default and not set is said once, where it is first used") {
    test::TempDir dir;
    dir.write("compose.yaml",
              "services:\n"
              "  web:\n"
              "    image: web:${TAG}\n"
              "    environment:\n"
              "      A: ${TAG}\n"
              "      B: $$TAG and ${OTHER:-fallback} and ${EMPTY-x}\n"
              "      C: $UNSET_TOO.\n");
    auto project = load_project(dir.path(), quiet({{"TAG", "1"}, {"UNSET_TOO", "set"}}));
    REQUIRE_MESSAGE(project.ok(), project.error().to_string());
    CHECK(project->warnings.empty());

    auto unset = load_project(dir.path(), quiet());
    REQUIRE_FALSE(unset.ok());  // "web:" is not an image reference
    CHECK(unset.error().to_string().find("compose.yaml:3:12") == 0);

    dir.write("compose.yaml",
              "services:\n"
              "  web:\n"
              "    image: web:1\n"
              "    environment:\n"
              "      A: ${TAG}\n"
              "      B: x${TAG}y\n"
              "      C: $$TAG and ${OTHER:-fallback}\n"
              "      D: $UNSET_TOO.\n");
    auto loaded = load_project(dir.path(), quiet());
    REQUIRE_MESSAGE(loaded.ok(), loaded.error().to_string());
    const std::string said = warnings_of(*loaded);
    INFO(said);
    CHECK(said ==
          "compose.yaml:5:10: the variable TAG is not set: it is substituted as an empty string (set it in the "
          "environment or .env, or write ${TAG:-default})\n"
          "compose.yaml:8:10: the variable UNSET_TOO is not set: it is substituted as an empty string (set it in the "
          "environment or .env, or write ${UNSET_TOO:-default})\n");
}
