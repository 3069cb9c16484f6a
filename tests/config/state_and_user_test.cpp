// `state:` (persistent named directories, `${state.NAME}`) and `user:` in tandem.yaml: what
// they read into and how the paths are filled in (their errors: spec_errors_test.cpp).
#include <doctest/doctest.h>

#include "config/spec_parser.hpp"

#include <tandem/spec.hpp>

#include <string>
#include <string_view>

using namespace tandem;

namespace {

ServiceSpec parsed_service(std::string_view text, const std::string& name = "db") {
    auto parsed = config::parse_spec(text, "tandem.yaml");
    REQUIRE_MESSAGE(parsed.ok(), parsed.error().to_string());
    const ServiceSpec* service = parsed->spec.find(name);
    REQUIRE(service);
    return *service;
}

}  // namespace

TEST_CASE("state and user are read: a list of names, and a user name or uid") {
    const ServiceSpec db = parsed_service(
        "version: 1\nservices:\n  db:\n    run: pg -D ${state.pgdata}\n    state: [pgdata, wal-archive]\n"
        "    user: root\n");
    CHECK(db.state == std::vector<std::string>{"pgdata", "wal-archive"});
    CHECK(db.user == "root");

    const ServiceSpec by_uid = parsed_service("version: 1\nservices:\n  db:\n    run: ./db\n    user: 0\n    state: data\n");
    CHECK(by_uid.user == "0");
    CHECK(by_uid.state == std::vector<std::string>{"data"});
}

TEST_CASE("${state.NAME} may appear wherever a command or env value is written, once declared") {
    const ServiceSpec db = parsed_service(
        "version: 1\nservices:\n  db:\n"
        "    build:\n      command: ./init ${state.data}\n      outputs: [bin]\n"
        "    run: [./db, --data, \"${state.data}\"]\n"
        "    env:\n      DATA: ${state.data}/x\n"
        "    health:\n      exec: [test, -d, \"${state.data}\"]\n"
        "    reset: ./wipe ${state.data}\n"
        "    watch:\n      - paths: [schema.sql]\n        action: run\n        command: ./migrate ${state.data}\n"
        "    state: [data]\n");
    CHECK(db.run.argv[2] == "${state.data}");  // kept as written: the engine knows the path
}

TEST_CASE("state paths: ${state.NAME} becomes an absolute path under the state root, everywhere") {
    ServiceSpec db;
    db.name = "db";
    db.state = {"data", "logs"};
    db.run.argv = {"./db", "--data=${state.data}", "${state.logs}", "${state.other}", "${port}"};
    db.env = {{"DATA", "${state.data}/pg"}};
    db.health = HealthSpec{};
    db.health->command = {"test", "-d", "${state.data}"};
    db.reset = ResetSpec{"rm -rf ${state.data}/*", {}};
    db.watch.push_back(WatchRule{{"a"}, WatchAction::run, "./m ${state.logs}", {}, {}});
    db.build = BuildSpec{"./init ${state.data}", {}, {}, {}};

    const ServiceSpec expanded = with_state_paths(db, "/var/lib/shop/state");
    CHECK(expanded.run.argv == std::vector<std::string>{"./db", "--data=/var/lib/shop/state/data",
                                                        "/var/lib/shop/state/logs", "${state.other}", "${port}"});
    CHECK(expanded.env[0].second == "/var/lib/shop/state/data/pg");
    CHECK(expanded.health->command[2] == "/var/lib/shop/state/data");
    CHECK(expanded.reset->command == "rm -rf /var/lib/shop/state/data/*");
    CHECK(expanded.watch[0].command == "./m /var/lib/shop/state/logs");
    CHECK(expanded.build->command == "./init /var/lib/shop/state/data");

    // A relative root is made absolute: the path must not depend on a process's directory.
    const auto relative = state_path("some/root", "data");
    CHECK(relative.is_absolute());
    CHECK(relative == (std::filesystem::current_path() / "some/root/data"));
}

TEST_CASE("state and user are part of the fingerprint, and leave other services' fingerprints as they were") {
    ServiceSpec db;
    db.name = "db";
    db.run.argv = {"./db"};
    const std::string plain = fingerprint(db);
    // The digest this service had before `state:` and `user:` existed: running services are not
    // replaced because the engine learnt two keys they do not use.
    CHECK(plain == "sha256:f222db0bba6d28ba6ae95c03c99f9b396f844295160b03543f61bd6e05b78e09");
    ServiceSpec with_state = db;
    with_state.state = {"data"};
    ServiceSpec with_user = db;
    with_user.user = "postgres";
    CHECK(fingerprint(with_state) != plain);
    CHECK(fingerprint(with_user) != plain);
    CHECK(fingerprint(with_state) != fingerprint(with_user));
}
