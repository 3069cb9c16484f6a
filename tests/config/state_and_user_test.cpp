// `state:` (persistent named directories, `${state.NAME}`) and `user:` in tandem.yaml: what
// they read into, every mistake with its location, and how the paths are filled in.
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

Error parse_error(std::string_view text) {
    auto parsed = config::parse_spec(text, "tandem.yaml");
    REQUIRE_FALSE(parsed.ok());
    return parsed.error();
}

void check_at(const Error& error, ErrorCode code, int line, int column) {
    INFO(error.to_string());
    CHECK(error.code == code);
    CHECK(error.location.line == line);
    CHECK(error.location.column == column);
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

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

TEST_CASE("${state.NAME} of a state the service does not declare is an error at the text that names it") {
    SUBCASE("in run") {
        const Error error = parse_error("version: 1\nservices:\n  db:\n    run: pg -D ${state.pgdat}\n    state: [pgdata]\n");
        check_at(error, ErrorCode::unknown_reference, 4, 10);
        CHECK(error.message ==
              "'services.db': '${state.pgdat}' names state 'pgdat', which the service does not declare (add it: "
              "'state: [pgdat]') (did you mean 'pgdata'?)");
    }
    SUBCASE("in env") {
        const Error error = parse_error("version: 1\nservices:\n  db:\n    run: ./db\n    env:\n      DIR: ${state.data}\n");
        check_at(error, ErrorCode::unknown_reference, 6, 12);
    }
    SUBCASE("in an exec probe") {
        const Error error =
            parse_error("version: 1\nservices:\n  db:\n    run: ./db\n    health:\n      exec: ls ${state.data}\n");
        check_at(error, ErrorCode::unknown_reference, 6, 7);
    }
    SUBCASE("in reset") {
        const Error error = parse_error("version: 1\nservices:\n  db:\n    run: ./db\n    reset: rm -rf ${state.data}/*\n");
        check_at(error, ErrorCode::unknown_reference, 5, 12);
    }
    SUBCASE("in a watch command") {
        const Error error = parse_error(
            "version: 1\nservices:\n  db:\n    run: ./db\n    watch:\n      - paths: [a]\n        action: run\n"
            "        command: ./m ${state.data}\n");
        check_at(error, ErrorCode::unknown_reference, 6, 9);
    }
    SUBCASE("in build.command") {
        const Error error =
            parse_error("version: 1\nservices:\n  db:\n    run: ./db\n    build:\n      command: ./b ${state.data}\n");
        check_at(error, ErrorCode::unknown_reference, 6, 7);
    }
    SUBCASE("declared by another service only") {
        const Error error = parse_error(
            "version: 1\nservices:\n  db:\n    run: ./db\n    state: [data]\n  job:\n    run: ./m ${state.data}\n");
        check_at(error, ErrorCode::unknown_reference, 7, 10);
        CHECK(contains(error.message, "'services.job'"));
    }
}

TEST_CASE("state names are checked: the name rule, and no name twice") {
    const Error bad = parse_error("version: 1\nservices:\n  db:\n    run: ./db\n    state: [data, Pg/Data]\n");
    check_at(bad, ErrorCode::invalid_value, 5, 19);
    CHECK(bad.message == "'services.db.state': state name 'Pg/Data' must be lowercase letters, digits, '-' and '_', "
                         "starting with a letter or digit");
    const Error twice = parse_error("version: 1\nservices:\n  db:\n    run: ./db\n    state: [data, data]\n");
    check_at(twice, ErrorCode::duplicate, 5, 19);
    CHECK(twice.message == "'services.db.state': 'data' is listed twice");
    const Error dots = parse_error("version: 1\nservices:\n  db:\n    run: ./db\n    state: ..\n");
    check_at(dots, ErrorCode::invalid_value, 5, 12);
}

TEST_CASE("an unknown user is an error naming services.X.user where it is written") {
    const Error error = parse_error("version: 1\nservices:\n  db:\n    run: ./db\n    user: no-such-user-of-tandem\n");
    check_at(error, ErrorCode::invalid_value, 5, 11);
    CHECK(error.message == "'services.db.user': no user 'no-such-user-of-tandem' on this machine (create it, e.g. "
                           "useradd --system no-such-user-of-tandem)");
    const Error uid = parse_error("version: 1\nservices:\n  db:\n    run: ./db\n    user: 4000000000\n");
    check_at(uid, ErrorCode::invalid_value, 5, 11);
    CHECK(contains(uid.message, "no user has uid 4000000000"));
    const Error in_override = parse_error(
        "version: 1\nservices:\n  db:\n    run: ./db\n    overrides:\n      harness:\n        user: nobody-at-all\n");
    check_at(in_override, ErrorCode::invalid_value, 7, 15);
    CHECK(contains(in_override.message, "'services.db.overrides.harness.user'"));
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
    db.watch.push_back(WatchRule{{"a"}, WatchAction::run, "./m ${state.logs}", {}});
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
