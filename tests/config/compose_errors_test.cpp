// Compose files as projects (issue 16): every malformed shape is an error with its code, the file,
// the exact line and column of what is wrong, and a message that says what. Each case writes its
// compose.yaml (and what else it needs) into a scratch directory and loads it as devloop would,
// with the variables interpolation sees given here rather than taken from this process.
#include <doctest/doctest.h>

#include <tandem/project.hpp>

#include "support/temp_dir.hpp"

#include <map>
#include <string>

using namespace tandem;
using tandem::test::TempDir;

namespace {

using Files = std::map<std::string, std::string>;
using Variables = std::map<std::string, std::string>;

ProjectOptions options_with(Variables environment = {}) {
    ProjectOptions options;
    options.default_policy = "wip";
    options.environment = std::move(environment);
    return options;
}

// Loads a project made of `compose` (as compose.yaml) and `more`; it must be refused.
Error compose_error(const std::string& compose, const Files& more = {}, const ProjectOptions& options = options_with()) {
    TempDir dir;
    dir.write("compose.yaml", compose);
    for (const auto& [path, text] : more) dir.write(path, text);
    auto project = load_project(dir.path(), options);
    REQUIRE_MESSAGE(!project.ok(), "loaded, though it should be refused:\n" << compose);
    return project.error();
}

// The same project loads.
Project compose_ok(const std::string& compose, const Files& more = {}, const ProjectOptions& options = options_with()) {
    TempDir dir;
    dir.write("compose.yaml", compose);
    for (const auto& [path, text] : more) dir.write(path, text);
    auto project = load_project(dir.path(), options);
    REQUIRE_MESSAGE(project.ok(), project.error().to_string());
    return std::move(*project);
}

void check_error(const Error& error, ErrorCode code, const std::string& file, int line, int column,
                 const std::string& says) {
    INFO(to_string(error.code) << " " << error.to_string().substr(0, 600));
    CHECK(error.code == code);
    CHECK(error.location.file == file);
    CHECK(error.location.line == line);
    CHECK(error.location.column == column);
    CHECK(error.message.find(says) != std::string::npos);
}

void check_at(const Error& error, ErrorCode code, int line, int column, const std::string& says) {
    check_error(error, code, "compose.yaml", line, column, says);
}

// A compose file whose one service `web` (image nginx) has the lines `body` (indented 4) after image.
std::string web_with(const std::string& body) { return "services:\n  web:\n    image: nginx\n" + body; }

}  // namespace

// --- the shape of services ---

TEST_CASE("compose errors: services that are not a mapping are invalid at the value") {
    const Error error = compose_error("services:\n  - web\n");
    check_at(error, ErrorCode::invalid_value, 2, 3, "'services': expected a mapping of service names");
}

TEST_CASE("compose errors: a service that is a list is invalid at the list") {
    const Error error = compose_error("services:\n  web:\n    - image: nginx\n");
    check_at(error, ErrorCode::invalid_value, 3, 5, "'services.web': expected a mapping");
}

TEST_CASE("compose errors: an image that is a list is invalid at the list") {
    const Error error = compose_error("services:\n  web:\n    image: [nginx]\n");
    check_at(error, ErrorCode::invalid_value, 3, 12, "'services.web.image': expected a string, found a list");
}

TEST_CASE("compose errors: a service name with uppercase letters is invalid at the name") {
    const Error error = compose_error("services:\n  Web:\n    image: nginx\n");
    check_at(error, ErrorCode::invalid_value, 2, 3, "rename 'Web'");
    CHECK(error.message.find("'services.Web'") != std::string::npos);
}

TEST_CASE("compose errors: a compose file without services is missing them") {
    const Error error = compose_error("name: shop\nvolumes:\n  data: {}\n");
    check_at(error, ErrorCode::missing_field, 1, 1, "a compose file needs 'services:'");
}

TEST_CASE("compose errors: a service without image or build is missing a field at its mapping") {
    const Error error = compose_error("services:\n  web:\n    command: [serve]\n");
    check_at(error, ErrorCode::missing_field, 3, 5, "'services.web': a service needs 'image:' or 'build:'");

    // Its keys from a YAML merge key: still located in the service's mapping, where `<<` is.
    const Error merged = compose_error("x-base: &base\n  command: [serve]\nservices:\n  web:\n    <<: *base\n");
    check_at(merged, ErrorCode::missing_field, 5, 5, "'services.web': a service needs 'image:' or 'build:'");
}

// --- ports ---

TEST_CASE("compose errors: ports that are not a list are invalid at the value") {
    const Error error = compose_error(web_with("    ports: \"8080:80\"\n"));
    check_at(error, ErrorCode::invalid_value, 4, 12, "'services.web.ports': expected a list of ports");
}

TEST_CASE("compose errors: a port that is not a number is invalid at the entry") {
    const Error error = compose_error(web_with("    ports:\n      - abc\n"));
    check_at(error, ErrorCode::invalid_value, 5, 9, "'services.web.ports.0': 'abc' is not a port");
}

TEST_CASE("compose errors: a port past 65535 is invalid at the entry") {
    const Error error = compose_error(web_with("    ports:\n      - 70000\n"));
    check_at(error, ErrorCode::invalid_value, 5, 9, "'70000' is not a port (1-65535)");
}

TEST_CASE("compose errors: a port range is refused at the entry") {
    const Error error = compose_error(web_with("    ports:\n      - 8080:80\n      - 1000-1005:1000-1005\n"));
    check_at(error, ErrorCode::invalid_value, 6, 9, "'services.web.ports.1': refused: the port range '1000-1005'");
}

TEST_CASE("compose errors: a UDP port is refused at the entry") {
    const Error error = compose_error(web_with("    ports:\n      - 53:53/udp\n"));
    check_at(error, ErrorCode::invalid_value, 5, 9, "refused: '53:53/udp': tandem publishes TCP ports only");
}

TEST_CASE("compose errors: a long port without target is missing a field at the entry") {
    const Error error = compose_error(web_with("    ports:\n      - published: 8080\n        protocol: tcp\n"));
    check_at(error, ErrorCode::missing_field, 5, 9, "'services.web.ports.0': a port needs 'target:'");
}

// --- environment and env_file ---

TEST_CASE("compose errors: environment that is a number is invalid at the value") {
    const Error error = compose_error(web_with("    environment: 5\n"));
    check_at(error, ErrorCode::invalid_value, 4, 18,
             "'services.web.environment': expected a mapping or a list of KEY=VALUE, found a scalar");
}

TEST_CASE("compose errors: an environment entry without a name is invalid at the entry") {
    const Error error = compose_error(web_with("    environment:\n      - A=1\n      - =x\n"));
    check_at(error, ErrorCode::invalid_value, 6, 9, "'services.web.environment.1': '=x' has no name");
}

TEST_CASE("compose errors: a missing env_file is an error at the entry, unless it is not required") {
    const Error error = compose_error(web_with("    env_file: missing.env\n"));
    check_at(error, ErrorCode::io, 4, 15, "'services.web.env_file': cannot read env file 'missing.env'");

    const Error in_list = compose_error(web_with("    env_file:\n      - present.env\n      - path: missing.env\n"),
                                        {{"present.env", "A=1\n"}});
    check_at(in_list, ErrorCode::io, 6, 9, "'services.web.env_file.1': cannot read env file 'missing.env'");

    const Project optional = compose_ok(
        web_with("    env_file:\n      - path: missing.env\n        required: false\n      - present.env\n"),
        {{"present.env", "A=1\n"}});
    REQUIRE(optional.spec.services.size() == 1);
    CHECK(optional.spec.services[0].env == std::vector<std::pair<std::string, std::string>>{{"A", "1"}});
}

TEST_CASE("compose errors: an env_file entry without path is missing a field at the entry") {
    const Error error = compose_error(web_with("    env_file:\n      - required: false\n"));
    check_at(error, ErrorCode::missing_field, 5, 9, "'services.web.env_file.0'");
    CHECK(error.message.find("path") != std::string::npos);
}

// --- depends_on ---

TEST_CASE("compose errors: depends_on that is a number is invalid at the value") {
    const Error error = compose_error(web_with("    depends_on: 5\n"));
    check_at(error, ErrorCode::invalid_value, 4, 17, "'services.web.depends_on': expected a list of services");
}

TEST_CASE("compose errors: depends_on an unknown service is an unknown reference with a suggestion") {
    const Error error = compose_error(web_with("    depends_on: [dbb]\n  db:\n    image: postgres\n"));
    check_at(error, ErrorCode::unknown_reference, 4, 18,
             "'services.web.depends_on': unknown service 'dbb' (did you mean 'db'?)");

    const Error in_map = compose_error(
        web_with("    depends_on:\n      dbb:\n        condition: service_started\n  db:\n    image: postgres\n"));
    check_at(in_map, ErrorCode::unknown_reference, 5, 7, "unknown service 'dbb' (did you mean 'db'?)");
}

TEST_CASE("compose errors: an unknown depends_on condition is invalid at the condition") {
    const Error error = compose_error(
        web_with("    depends_on:\n      db:\n        condition: service_ready\n  db:\n    image: postgres\n"));
    check_at(error, ErrorCode::invalid_value, 6, 20,
             "'services.web.depends_on.db.condition': unknown condition 'service_ready'");
}

TEST_CASE("compose errors: an unknown key in a depends_on entry is located at the key") {
    const Error error = compose_error(
        web_with("    depends_on:\n      db:\n        conditon: service_started\n  db:\n    image: postgres\n"));
    check_at(error, ErrorCode::unknown_key, 6, 9, "unknown key 'conditon' in 'services.web.depends_on.db'");
}

TEST_CASE("compose errors: a dependency cycle is located at the entry that closes it") {
    const Error error = compose_error("services:\n"
                                      "  a:\n"
                                      "    image: a\n"
                                      "    depends_on: [b]\n"
                                      "  b:\n"
                                      "    image: b\n"
                                      "    depends_on: [c]\n"
                                      "  c:\n"
                                      "    image: c\n"
                                      "    depends_on: [a]\n");
    check_at(error, ErrorCode::dependency_cycle, 10, 18, "dependency cycle: a -> b -> c -> a");

    const Error in_maps = compose_error("services:\n"
                                        "  a:\n"
                                        "    image: a\n"
                                        "    depends_on:\n"
                                        "      b:\n"
                                        "        condition: service_started\n"
                                        "  b:\n"
                                        "    image: b\n"
                                        "    depends_on:\n"
                                        "      a:\n"
                                        "        condition: service_healthy\n");
    check_at(in_maps, ErrorCode::dependency_cycle, 10, 7, "dependency cycle: a -> b -> a");
}

TEST_CASE("compose errors: service_completed_successfully on a service with ports is refused at the condition") {
    const Error error = compose_error("services:\n"
                                      "  migrate:\n"
                                      "    image: migrate\n"
                                      "    ports: [\"8080:80\"]\n"
                                      "  web:\n"
                                      "    image: web\n"
                                      "    depends_on:\n"
                                      "      migrate:\n"
                                      "        condition: service_completed_successfully\n");
    check_at(error, ErrorCode::invalid_value, 9, 20, "'services.migrate': others wait for it to complete");
    CHECK(error.message.find("one-shot job") != std::string::npos);
    CHECK(error.message.find("remove its ports") != std::string::npos);
}

// --- healthcheck ---

TEST_CASE("compose errors: a healthcheck test of an unknown form is invalid at the test") {
    const Error error = compose_error(web_with("    healthcheck:\n      test: [\"BOGUS\", \"x\"]\n"));
    check_at(error, ErrorCode::invalid_value, 5, 13, "'services.web.healthcheck.test': expected [CMD, program, args...]");
}

TEST_CASE("compose errors: a healthcheck interval without a unit or with an unknown unit is invalid at the value") {
    const Error bare = compose_error(web_with("    healthcheck:\n      test: [\"CMD\", \"true\"]\n      interval: 5\n"));
    check_at(bare, ErrorCode::invalid_value, 6, 17, "'services.web.healthcheck.interval': '5' is not a duration");

    const Error parsecs =
        compose_error(web_with("    healthcheck:\n      test: [\"CMD\", \"true\"]\n      interval: 5 parsecs\n"));
    check_at(parsecs, ErrorCode::invalid_value, 6, 17, "'5 parsecs' is not a duration");
}

// --- volumes ---

TEST_CASE("compose errors: a named volume not declared at the top level is an unknown reference at the entry") {
    const Error error = compose_error(web_with("    volumes:\n      - data:/data\n"));
    check_at(error, ErrorCode::unknown_reference, 5, 9, "volume 'data' is not declared in the top-level 'volumes:'");
}

TEST_CASE("compose errors: a volume of four parts is invalid at the entry") {
    const Error error = compose_error(web_with("    volumes:\n      - a:b:c:d\n"));
    check_at(error, ErrorCode::invalid_value, 5, 9, "'a:b:c:d' is not SOURCE:TARGET[:MODE]");
}

TEST_CASE("compose errors: a relative path in the container is invalid at the entry") {
    const Error error = compose_error(web_with("    volumes:\n      - data:relative\nvolumes:\n  data: {}\n"));
    check_at(error, ErrorCode::invalid_value, 5, 9, "'relative': the path in the container must be absolute");
}

TEST_CASE("compose errors: the same target mounted twice is invalid at the second entry") {
    const Error error =
        compose_error(web_with("    volumes:\n      - data:/srv\n      - ./src:/srv\nvolumes:\n  data: {}\n"));
    check_at(error, ErrorCode::invalid_value, 6, 9, "'/srv' is mounted twice (also by 'data:/srv')");

    // The same directory written with a trailing slash, and as a tmpfs.
    const Error slash =
        compose_error(web_with("    volumes:\n      - data:/srv\n      - ./src:/srv/\nvolumes:\n  data: {}\n"));
    check_at(slash, ErrorCode::invalid_value, 6, 9, "'/srv' is mounted twice");
    const Error tmpfs = compose_error(web_with("    volumes:\n      - data:/srv\n    tmpfs: /srv\nvolumes:\n  data: {}\n"));
    check_at(tmpfs, ErrorCode::invalid_value, 6, 12, "'/srv' is mounted twice");
}

TEST_CASE("compose errors: an external volume is refused at its key") {
    const Error error = compose_error(web_with("volumes:\n  data:\n    external: true\n"));
    check_at(error, ErrorCode::invalid_value, 6, 5, "'volumes.data.external': refused");
}

// --- keys tandem refuses or does not know ---

TEST_CASE("compose errors: network_mode, privileged and extends are refused at their keys") {
    check_at(compose_error(web_with("    network_mode: host\n")), ErrorCode::invalid_value, 4, 5,
             "'services.web.network_mode': refused");
    check_at(compose_error(web_with("    privileged: true\n")), ErrorCode::invalid_value, 4, 5,
             "'services.web.privileged': refused");
    check_at(compose_error(web_with("    extends:\n      service: base\n")), ErrorCode::invalid_value, 4, 5,
             "'services.web.extends': refused");
}

TEST_CASE("compose errors: an unknown service key is located and suggested") {
    const Error error = compose_error("services:\n  web:\n    imagee: nginx\n");
    check_at(error, ErrorCode::unknown_key, 3, 5, "unknown key 'imagee' in 'services.web' (did you mean 'image'?)");
}

TEST_CASE("compose errors: an unknown top-level key is located and suggested") {
    const Error error = compose_error(web_with("volume:\n  data: {}\n"));
    check_at(error, ErrorCode::unknown_key, 4, 1, "unknown top-level key 'volume' (did you mean 'volumes'?)");
}

TEST_CASE("compose errors: include is refused at its key") {
    const Error error = compose_error("include:\n  - other.yaml\n" + web_with(""), {{"other.yaml", web_with("")}});
    check_at(error, ErrorCode::invalid_value, 1, 1, "'include': refused");
}

TEST_CASE("compose errors: an unknown key in the top-level x-tandem is located and suggested") {
    const Error error = compose_error("x-tandem:\n  polcy: wip\n" + web_with(""));
    check_at(error, ErrorCode::unknown_key, 2, 3, "unknown key 'polcy' in 'x-tandem' (did you mean 'policy'?)");
}

// --- interpolation ---

TEST_CASE("compose errors: a required variable that is unset is an error at the value with its message") {
    const Error error = compose_error("services:\n  web:\n    image: ${IMAGE:?set IMAGE to the tag to run}\n");
    check_at(error, ErrorCode::invalid_value, 3, 12, "set IMAGE to the tag to run");
    CHECK(error.message.find("IMAGE") != std::string::npos);
}

TEST_CASE("compose errors: an unclosed variable is an error at the value") {
    const Error error = compose_error("services:\n  web:\n    image: nginx\n    command: echo ${GREETING\n");
    check_at(error, ErrorCode::invalid_value, 4, 14, "'${' without a closing '}'");
}

// --- develop.watch ---

TEST_CASE("compose errors: a watch rule without path is missing a field at the rule") {
    const Error error = compose_error(web_with("    develop:\n      watch:\n        - action: rebuild\n"));
    check_at(error, ErrorCode::missing_field, 6, 11, "'services.web.develop.watch.0': a watch rule needs 'path:'");
}

TEST_CASE("compose errors: a watch rule with an unknown action is invalid at the action") {
    const Error error = compose_error(web_with("    develop:\n      watch:\n        - path: ./src\n          action: bogus\n"));
    check_at(error, ErrorCode::invalid_value, 7, 19, "'services.web.develop.watch.0.action': unknown action 'bogus'");
}

TEST_CASE("compose errors: a sync rule without target is missing a field at the rule") {
    const Error error = compose_error(web_with("    develop:\n      watch:\n        - path: ./src\n          action: sync\n"));
    check_at(error, ErrorCode::missing_field, 6, 11, "'action: sync' needs 'target:'");
}

TEST_CASE("compose errors: a watch path leaving the project is invalid at the path") {
    const Error error = compose_error(web_with("    develop:\n      watch:\n        - path: ../x\n          action: rebuild\n"));
    check_at(error, ErrorCode::invalid_value, 6, 17, "'../x' must be a path inside the project");
}

TEST_CASE("compose errors: a sync+exec rule whose exec has no command is missing a field at exec") {
    const Error error = compose_error(web_with("    develop:\n      watch:\n        - path: .\n          action: sync+exec\n"
                                               "          target: /app\n          exec: {user: root}\n"));
    check_at(error, ErrorCode::missing_field, 9, 17, "'services.web.develop.watch.0");
    CHECK(error.message.find("command") != std::string::npos);
}

// --- networks ---

TEST_CASE("compose errors: a service network not declared at the top level is an unknown reference at the name") {
    const Error error = compose_error(web_with("    networks: [back]\n"));
    check_at(error, ErrorCode::unknown_reference, 4, 16, "network 'back' is not declared in the top-level 'networks:'");
}

// --- the YAML itself ---

TEST_CASE("compose errors: a YAML syntax error is located") {
    // A flow list left open: found where the next key starts.
    const Error open_list =
        compose_error("services:\n  web:\n    image: nginx\n    ports: [\"8080:80\"\n  db:\n    image: postgres\n");
    check_at(open_list, ErrorCode::syntax, 5, 3, "invalid YAML: end of sequence flow not found");

    // A second `: ` on a line.
    const Error map_value = compose_error("services:\n  web:\n    image: nginx: latest\n");
    check_at(map_value, ErrorCode::syntax, 3, 17, "invalid YAML: illegal map value");
}

TEST_CASE("compose errors: a compose file past the YAML limits is refused as a syntax error at the node that crosses them") {
    // 200,000 items of a flow list: 400 KB, under the 1 MiB of a file, over the 100,000 nodes.
    // The root mapping, `x-big` and the list are 3 nodes: item 99,998 is node 100,001, at
    // column 8 + 2 * 99,998 - 1.
    std::string big = "x-big: [a";
    for (int i = 1; i < 200'000; ++i) big += ",a";
    big += "]\n";
    const Error error = compose_error(big + web_with(""));
    check_at(error, ErrorCode::syntax, 1, 8 + 2 * 99'998 - 1, "100000 nodes");
}

TEST_CASE("compose errors: an empty compose file is missing its services") {
    const Error error = compose_error("");
    check_at(error, ErrorCode::missing_field, 0, 0, "the file is empty");

    const Error comments_only = compose_error("# nothing yet\n");
    check_at(comments_only, ErrorCode::missing_field, 0, 0, "the file is empty");
}
