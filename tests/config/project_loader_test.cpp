// load_project and disk_reader: policy choice, project sets, lineage overrides, confined reads.
#include <doctest/doctest.h>

#include <tandem/project.hpp>

#include "support/temp_dir.hpp"

#include <map>
#include <string>

using namespace tandem;

namespace {

FileReader memory_reader(std::map<std::string, std::string> files) {
    return [files = std::move(files)](const std::string& path) -> Result<std::string> {
        const auto it = files.find(path);
        if (it == files.end()) return make_error(ErrorCode::io, "no such file");
        return it->second;
    };
}

// What devloop passes: wip unless the flag or the file says otherwise.
ProjectOptions devloop_options() {
    ProjectOptions options;
    options.default_policy = "wip";
    return options;
}

ProjectOptions with_flag(std::string policy) {
    ProjectOptions options = devloop_options();
    options.policy = std::move(policy);
    return options;
}

Project load_ok(const std::string& yaml, ProjectOptions options = devloop_options(), std::map<std::string, std::string> more = {}) {
    more["tandem.yaml"] = yaml;
    auto project = load_project(memory_reader(std::move(more)), options);
    if (!project) FAIL("unexpected error: " << project.error().to_string());
    return std::move(*project);
}

Error load_error(const std::string& yaml, ProjectOptions options = devloop_options()) {
    auto project = load_project(memory_reader({{"tandem.yaml", yaml}}), options);
    REQUIRE_FALSE(project.ok());
    return project.error();
}

const char* const kStaging = R"(version: 1
policies:
  staging:
    from: harness
    database: {reset: allow}
services:
  api:
    run: ./api
    port: 8080
    env: {MODE: base, LEVEL: base}
    overrides:
      harness:
        replicas: 2
        env: {MODE: harness}
      staging:
        replicas: 3
        port: 9090
)";

}  // namespace

TEST_CASE("the policy set comes from the flag, else the file, else the default") {
    const std::string with_policy = "version: 1\npolicy: harness\nservices: {}\n";
    const Project from_flag = load_ok(with_policy, with_flag("wip"));
    CHECK(from_flag.policy.name == "wip");
    CHECK(from_flag.policy_choice == PolicyChoice::flag);

    const Project from_file = load_ok(with_policy);
    CHECK(from_file.policy.name == "harness");
    CHECK(from_file.policy_choice == PolicyChoice::file);
    CHECK(from_file.spec.policy == std::optional<std::string>("harness"));

    ProjectOptions shipper_like;
    shipper_like.default_policy = "harness";
    const Project from_default = load_ok("version: 1\nservices: {}\n", shipper_like);
    CHECK(from_default.policy.name == "harness");
    CHECK(from_default.policy_choice == PolicyChoice::default_);
    CHECK(from_default.policy.database.reset == Permission::deny);

    const Project devloop_like = load_ok("version: 1\nservices: {}\n");
    CHECK(devloop_like.policy.name == "wip");
    CHECK(devloop_like.policy_choice == PolicyChoice::default_);

    const Error nothing = load_error("version: 1\nservices: {}\n", ProjectOptions{});
    CHECK(nothing.code == ErrorCode::missing_field);
    CHECK(nothing.location.file == "tandem.yaml");
    CHECK(nothing.location.line == 0);
    CHECK(nothing.message ==
          "no policy set chosen: write 'policy: NAME' in tandem.yaml or pass --policy NAME; the sets are: wip, harness");
    CHECK(load_ok("version: 1\npolicy: harness\nservices: {}\n", ProjectOptions{}).policy.name == "harness");
}

TEST_CASE("an unknown set in `policy:` is located and suggested") {
    const Error error = load_error("version: 1\npolicy: harnes\nservices: {}\n");
    CHECK(error.code == ErrorCode::unknown_policy);
    CHECK(error.location.file == "tandem.yaml");
    CHECK(error.location.line == 2);
    CHECK(error.location.column == 9);
    CHECK(error.message == "'policy': unknown policy set 'harnes' (did you mean 'harness'?); the sets are: wip, harness");
}

TEST_CASE("an unknown set from the flag lists the sets, without a location") {
    const Error error = load_error(kStaging, with_flag("stagin"));
    CHECK(error.code == ErrorCode::unknown_policy);
    CHECK(error.location.empty());
    CHECK(error.message ==
          "--policy: unknown policy set 'stagin' (did you mean 'staging'?); the sets are: wip, harness, staging");
}

TEST_CASE("a project set inline in tandem.yaml starts from a built-in and overrides one knob") {
    const Project project = load_ok(kStaging, with_flag("staging"));
    CHECK(project.policy.name == "staging");
    CHECK(project.policy.from == "harness");
    CHECK(project.policy.database.reset == Permission::allow);  // the knob it overrides
    CHECK(project.policy.audit.enabled);                         // the rest is harness
    CHECK(project.policy.rollout.strategy == RolloutStrategy::rolling);
    CHECK(project.policy.updates.max_parallel == 1);
    CHECK(project.catalog.names() == std::vector<std::string>{"wip", "harness", "staging"});
}

TEST_CASE("a project set from a file beside tandem.yaml") {
    test::TempDir dir;
    dir.write("tandem.yaml", "version: 1\npolicy: qa\npolicies:\n  qa: policies/qa.yaml\nservices: {}\n");
    dir.write("policies/qa.yaml", "from: harness\nhistory:\n  keep: 3\n");
    auto project = load_project(dir.path(), devloop_options());
    REQUIRE_MESSAGE(project.ok(), project.error().to_string());
    CHECK(project->policy.name == "qa");
    CHECK(project->policy_choice == PolicyChoice::file);
    CHECK(project->policy.history.keep == 3);
    CHECK(project->policy.database.reset == Permission::deny);
    CHECK(project->policy.artifacts.immutable);

    dir.write("policies/qa.yaml", "from: harness\nhistory:\n  kep: 3\n");
    auto broken = load_project(dir.path(), devloop_options());
    REQUIRE_FALSE(broken.ok());
    CHECK(broken.error().code == ErrorCode::unknown_key);
    CHECK(broken.error().location.file == "policies/qa.yaml");
    CHECK(broken.error().location.line == 3);

    dir.write("tandem.yaml", "version: 1\npolicies:\n  qa: policies/missing.yaml\nservices: {}\n");
    auto missing = load_project(dir.path(), devloop_options());
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code == ErrorCode::io);
    CHECK(missing.error().location.line == 3);
    CHECK(missing.error().location.column == 7);
    CHECK(missing.error().message.find("policies/missing.yaml") != std::string::npos);
}

TEST_CASE("overrides are applied along the lineage, base first") {
    const Project staging = load_ok(kStaging, with_flag("staging"));
    const ServiceSpec& api = staging.spec.services.at(0);
    CHECK(api.replicas == 3);  // staging's override, applied after harness's 2
    CHECK(api.port == 9090);
    // env merges variable by variable: harness set MODE, staging left it, LEVEL is the base's.
    CHECK(api.env == std::vector<std::pair<std::string, std::string>>{{"MODE", "harness"}, {"LEVEL", "base"}});

    const Project harness = load_ok(kStaging, with_flag("harness"));
    CHECK(harness.spec.services.at(0).replicas == 2);
    CHECK(harness.spec.services.at(0).port == 8080);

    const Project wip = load_ok(kStaging, with_flag("wip"));
    CHECK(wip.spec.services.at(0).replicas == 1);
    CHECK(wip.spec.services.at(0).env.at(0).second == "base");
}

TEST_CASE("an override for a set the project cannot name is an unknown policy at its key") {
    const Error error = load_error(
        "version: 1\nservices:\n  api:\n    run: a\n    overrides:\n      harnes:\n        replicas: 2\n");
    CHECK(error.code == ErrorCode::unknown_policy);
    CHECK(error.location.line == 6);
    CHECK(error.location.column == 7);
    CHECK(error.message ==
          "'services.api.overrides': unknown policy set 'harnes' (did you mean 'harness'?); the sets are: wip, harness");
}

TEST_CASE("an override body for a set not in use is still validated") {
    const Error error = load_error(
        "version: 1\nservices:\n  api:\n    run: a\n    overrides:\n      harness:\n        replicas: many\n",
        with_flag("wip"));
    CHECK(error.code == ErrorCode::invalid_value);
    CHECK(error.location.line == 7);
    CHECK(error.location.column == 19);
}

TEST_CASE("cross-checks run again after overrides") {
    const std::string yaml = R"(version: 1
services:
  a:
    run: a
    port: 8080
  b:
    run: b
    port: 8081
    overrides:
      harness:
        port: 8080
)";
    CHECK(load_ok(yaml).spec.services.at(1).port == 8081);
    const Error error = load_error(yaml, with_flag("harness"));
    CHECK(error.code == ErrorCode::duplicate);
    CHECK(error.location.line == 11);
    CHECK(error.location.column == 15);
}

TEST_CASE("a missing tandem.yaml is an io error naming it") {
    ProjectOptions named = devloop_options();
    named.config_path = "tandem.yaml";
    auto project = load_project(memory_reader({}), named);
    REQUIRE_FALSE(project.ok());
    CHECK(project.error().code == ErrorCode::io);
    CHECK(project.error().message == "cannot read 'tandem.yaml': no such file");

    test::TempDir dir;
    auto on_disk = load_project(dir.path(), named);
    REQUIRE_FALSE(on_disk.ok());
    CHECK(on_disk.error().code == ErrorCode::io);
    CHECK(on_disk.error().message.rfind("cannot read 'tandem.yaml' (", 0) == 0);
    CHECK(on_disk.error().message.find("No such file or directory") != std::string::npos);
}

TEST_CASE("a directory with no project file is an io error naming every file looked for") {
    test::TempDir dir;
    auto found = load_project(dir.path(), devloop_options());
    REQUIRE_FALSE(found.ok());
    CHECK(found.error().code == ErrorCode::io);
    CHECK(found.error().message ==
          "no project file here: none of tandem.yaml, compose.yaml, compose.yml, docker-compose.yaml, "
          "docker-compose.yml or Procfile (name one with -f)");
}

TEST_CASE("load_project from a directory names the project after it unless the file does") {
    test::TempDir dir;
    dir.write("shop/tandem.yaml", "version: 1\nservices:\n  api:\n    run: ./api\n");
    auto project = load_project(dir.path() / "shop", devloop_options());
    REQUIRE_MESSAGE(project.ok(), project.error().to_string());
    CHECK(project->spec.project == "shop");
    CHECK(project->spec.file == "tandem.yaml");
    auto trailing = load_project(dir.path().string() + "/shop/", devloop_options());
    REQUIRE(trailing.ok());
    CHECK(trailing->spec.project == "shop");

    dir.write("shop/tandem.yaml", "version: 1\nproject: store\nservices: {}\n");
    auto named = load_project(dir.path() / "shop", devloop_options());
    REQUIRE(named.ok());
    CHECK(named->spec.project == "store");
}

TEST_CASE("disk_reader reads below the root and refuses paths that leave it") {
    test::TempDir dir;
    dir.write("root/a/b.txt", "inside");
    dir.write("secret.txt", "outside");
    const FileReader read = disk_reader(dir.path() / "root");

    auto inside = read("a/b.txt");
    REQUIRE(inside.ok());
    CHECK(*inside == "inside");
    CHECK(read("a/../a/b.txt").ok());

    auto up = read("../secret.txt");
    REQUIRE_FALSE(up.ok());
    CHECK(up.error().code == ErrorCode::io);
    CHECK(up.error().message == "refusing to read '../secret.txt': it leaves the project root");

    auto sneaky = read("a/../../secret.txt");
    REQUIRE_FALSE(sneaky.ok());
    CHECK(sneaky.error().message == "refusing to read 'a/../../secret.txt': it leaves the project root");

    const std::string absolute = (dir.path() / "secret.txt").string();
    auto abs = read(absolute);
    REQUIRE_FALSE(abs.ok());
    CHECK(abs.error().message ==
          "refusing to read '" + absolute + "': paths are relative to the project root, not absolute");

    auto directory = read("a");
    REQUIRE_FALSE(directory.ok());
    CHECK(directory.error().message == "cannot read 'a': it is a directory");
}

TEST_CASE("the bundled example loads under both built-in sets") {
    for (const char* set : {"wip", "harness"}) {
        CAPTURE(set);
        auto project = load_project(std::filesystem::path(TANDEM_SOURCE_DIR) / "examples" / "hello", with_flag(set));
        REQUIRE_MESSAGE(project.ok(), project.error().to_string());
        CHECK(project->spec.project == "hello");
        CHECK(project->policy.name == set);
        CHECK_FALSE(project->spec.services.empty());
    }
}

TEST_CASE("a policy file outside the project is refused at its entry") {
    test::TempDir dir;
    dir.write("outside.yaml", "from: harness\n");
    dir.write("project/tandem.yaml", "version: 1\npolicies:\n  qa: ../outside.yaml\nservices: {}\n");
    auto project = load_project(dir.path() / "project", devloop_options());
    REQUIRE_FALSE(project.ok());
    CHECK(project.error().code == ErrorCode::io);
    CHECK(project.error().location.line == 3);
    CHECK(project.error().message == "'policies.qa': refusing to read '../outside.yaml': it leaves the project root");
}
