// Every kind of tandem.yaml error, with its exact code, line, column and message.
#include <doctest/doctest.h>

#include "config/spec_parser.hpp"

#include <string_view>

using namespace tandem;

namespace {

Error parse_error(std::string_view text) {
    auto parsed = config::parse_spec(text, "tandem.yaml");
    REQUIRE_FALSE(parsed.ok());
    return parsed.error();
}

void check_at(const Error& error, ErrorCode code, int line, int column) {
    INFO(error.to_string());
    CHECK(error.code == code);
    CHECK(error.location.file == "tandem.yaml");
    CHECK(error.location.line == line);
    CHECK(error.location.column == column);
}

}  // namespace

TEST_CASE("syntax errors are located") {
    const Error error = parse_error("version: 1\nservices:\n  api: [1, 2\n");
    CHECK(error.code == ErrorCode::syntax);
    CHECK(error.location.file == "tandem.yaml");
    CHECK(error.location.line >= 3);
}

TEST_CASE("an unknown top-level key is suggested") {
    const Error error = parse_error("version: 1\nservicez: {}\n");
    check_at(error, ErrorCode::unknown_key, 2, 1);
    CHECK(error.to_string() == "tandem.yaml:2:1: unknown key 'servicez' (did you mean 'services'?)");
}

TEST_CASE("an unknown service key is suggested") {
    const Error error = parse_error("version: 1\nservices:\n  api:\n    run: ./api\n    replicaz: 2\n");
    check_at(error, ErrorCode::unknown_key, 5, 5);
    CHECK(error.to_string() == "tandem.yaml:5:5: unknown key 'replicaz' in 'services.api' (did you mean 'replicas'?)");
}

TEST_CASE("an unknown health key is suggested") {
    const Error error =
        parse_error("version: 1\nservices:\n  api:\n    run: ./api\n    health:\n      http: /\n      intervall: 1s\n");
    check_at(error, ErrorCode::unknown_key, 7, 7);
    CHECK(error.message == "unknown key 'intervall' in 'services.api.health' (did you mean 'interval'?)");
}

TEST_CASE("a service without run is missing a field, located at its mapping") {
    const Error error = parse_error("version: 1\nservices:\n  api:\n    port: 80\n");
    check_at(error, ErrorCode::missing_field, 4, 5);
    CHECK(error.message == "'services.api': missing required key 'run'");
}

TEST_CASE("the version is required and must be 1") {
    const Error missing = parse_error("services: {}\n");
    check_at(missing, ErrorCode::missing_field, 1, 1);
    CHECK(missing.message == "missing required key 'version'");

    const Error wrong = parse_error("version: 2\nservices: {}\n");
    check_at(wrong, ErrorCode::invalid_value, 1, 10);
    CHECK(wrong.message == "'version': schema version 2 is not supported (this tandem reads version 1)");

    const Error no_services = parse_error("version: 1\nproject: x\n");
    check_at(no_services, ErrorCode::missing_field, 1, 1);
    CHECK(no_services.message == "missing required key 'services'");
}

TEST_CASE("values of the wrong type are invalid where written") {
    const Error port = parse_error("version: 1\nservices:\n  api:\n    run: x\n    port: eighty\n");
    check_at(port, ErrorCode::invalid_value, 5, 11);
    CHECK(port.message == "'services.api.port': expected a whole number");

    const Error range = parse_error("version: 1\nservices:\n  api:\n    run: x\n    port: 70000\n");
    check_at(range, ErrorCode::invalid_value, 5, 11);
    CHECK(range.message == "'services.api.port': 70000 is out of range (0 to 65535)");

    const Error replicas = parse_error("version: 1\nservices:\n  api:\n    run: x\n    replicas: [2]\n");
    check_at(replicas, ErrorCode::invalid_value, 5, 15);

    const Error env = parse_error("version: 1\nservices:\n  api:\n    run: x\n    env:\n      A: {b: c}\n");
    check_at(env, ErrorCode::invalid_value, 6, 10);
    CHECK(env.message == "'services.api.env.A': expected a string, found a mapping");

    const Error run = parse_error("version: 1\nservices:\n  api:\n    run: {cmd: x}\n");
    check_at(run, ErrorCode::invalid_value, 4, 10);

    const Error action = parse_error(
        "version: 1\nservices:\n  api:\n    run: x\n    watch:\n      - paths: a\n        action: rebiuld\n");
    check_at(action, ErrorCode::invalid_value, 7, 17);
    CHECK(action.message ==
          "'services.api.watch.0.action': 'rebiuld' is not one of sync, sync+restart, restart, rebuild, run (did you mean 'rebuild'?)");

    const Error role = parse_error("version: 1\naccess:\n  roles:\n    ops: [status, deploy]\nservices: {}\n");
    check_at(role, ErrorCode::invalid_value, 4, 19);
}

TEST_CASE("a bad duration is invalid where written") {
    const Error error = parse_error("version: 1\nservices:\n  api:\n    run: x\n    stop_grace: 5\n");
    check_at(error, ErrorCode::invalid_value, 5, 17);
    CHECK(error.message == "'services.api.stop_grace': expected a duration such as 500ms, 2s or 1m, found '5'");

    const Error zero = parse_error(
        "version: 1\nservices:\n  api:\n    run: x\n    health:\n      tcp: true\n      interval: 0s\n");
    check_at(zero, ErrorCode::invalid_value, 7, 17);
}

TEST_CASE("a service defined twice is a duplicate at the second") {
    const Error error = parse_error("version: 1\nservices:\n  api:\n    run: a\n  api:\n    run: b\n");
    check_at(error, ErrorCode::duplicate, 5, 3);
    CHECK(error.message == "duplicate service 'api' in 'services' (first at line 3)");
}

TEST_CASE("a key written twice is a duplicate at the second") {
    const Error error = parse_error("version: 1\nservices:\n  api:\n    run: a\n    port: 1\n    port: 2\n");
    check_at(error, ErrorCode::duplicate, 6, 5);
    CHECK(error.message == "duplicate key 'port' in 'services.api' (first at line 5)");

    const Error env = parse_error("version: 1\nservices:\n  api:\n    run: a\n    env: {A: 1, A: 2}\n");
    check_at(env, ErrorCode::duplicate, 5, 17);
    CHECK(env.message == "duplicate variable 'A' in 'services.api.env' (first at line 5)");

    const Error top = parse_error("version: 1\nservices: {}\nversion: 1\n");
    check_at(top, ErrorCode::duplicate, 3, 1);
}

TEST_CASE("two services on the same port: duplicate at the second port") {
    const Error error =
        parse_error("version: 1\nservices:\n  a:\n    run: a\n    port: 8080\n  b:\n    run: b\n    port: 8080\n");
    check_at(error, ErrorCode::duplicate, 8, 11);
    CHECK(error.message == "'services.b.port': port 8080 is already used by service 'a'");
}

TEST_CASE("depends_on an unknown service suggests the nearest") {
    const Error error = parse_error(
        "version: 1\nservices:\n  api:\n    run: a\n  web:\n    run: w\n    depends_on: [db, apii]\n  db:\n    run: d\n");
    check_at(error, ErrorCode::unknown_reference, 7, 22);
    CHECK(error.message == "'services.web.depends_on': unknown service 'apii' (did you mean 'api'?)");
}

TEST_CASE("a service depending on itself is a cycle") {
    const Error error = parse_error("version: 1\nservices:\n  a:\n    run: a\n    depends_on: [a]\n");
    check_at(error, ErrorCode::dependency_cycle, 5, 18);
    CHECK(error.message == "dependency cycle: a -> a");
}

TEST_CASE("a three-service cycle is named whole, at the entry that closes it") {
    const Error error = parse_error(R"(version: 1
services:
  a:
    run: a
    depends_on: [b]
  b:
    run: b
    depends_on: [c]
  c:
    run: c
    depends_on:
      - a
)");
    check_at(error, ErrorCode::dependency_cycle, 12, 9);
    CHECK(error.message == "dependency cycle: a -> b -> c -> a");
}

TEST_CASE("${services.X.port} must name a service") {
    const Error error = parse_error(
        "version: 1\nservices:\n  api:\n    run: a\n    port: 80\n  web:\n    run: w\n"
        "    env:\n      API: \"http://127.0.0.1:${services.apy.port}\"\n");
    check_at(error, ErrorCode::unknown_reference, 9, 12);
    CHECK(error.message ==
          "'services.web.env.API': '${services.apy.port}' names an unknown service 'apy' (did you mean 'api'?)");
}

TEST_CASE("${services.X.port} must name a service with a port") {
    const Error error = parse_error(
        "version: 1\nservices:\n  api:\n    run: a\n  web:\n    run: w\n    env: {API: \"${services.api.port}\"}\n");
    check_at(error, ErrorCode::unknown_reference, 7, 16);
    CHECK(error.message == "'services.web.env.API': '${services.api.port}': service 'api' has no port (give it 'port:')");
}

TEST_CASE("a variable other than ${port}, ${services.NAME.port}, ${services.NAME.host} and ${state.NAME} is named in the error") {
    const Error error = parse_error("version: 1\nservices:\n  api:\n    run: a\n    env:\n      HOME_DIR: ${HOME}/x\n");
    check_at(error, ErrorCode::unknown_reference, 6, 17);
    CHECK(error.message ==
          "'services.api.env.HOME_DIR': unknown variable '${HOME}' (the variables are ${port}, "
          "${services.NAME.port}, ${services.NAME.host} and ${state.NAME})");

    const Error unclosed = parse_error("version: 1\nservices:\n  api:\n    run: a\n    env: {A: \"${port\"}\n");
    check_at(unclosed, ErrorCode::invalid_value, 5, 14);
}

TEST_CASE("a watch rule with action run needs a command, and only it may have one") {
    const Error missing = parse_error(
        "version: 1\nservices:\n  api:\n    run: a\n    watch:\n      - paths: [x]\n        action: run\n");
    check_at(missing, ErrorCode::missing_field, 6, 9);
    CHECK(missing.message == "'services.api.watch.0': missing required key 'command'");

    const Error extra = parse_error(
        "version: 1\nservices:\n  api:\n    run: a\n    watch:\n      - paths: [x]\n        command: make\n");
    check_at(extra, ErrorCode::invalid_value, 7, 9);
    CHECK(extra.message == "'services.api.watch.0.command': a command is only used with 'action: run' (or 'action: "
                           "sync' into a container)");
}

TEST_CASE("a health check with two probe kinds is refused at the second") {
    const Error error = parse_error(
        "version: 1\nservices:\n  api:\n    run: a\n    health:\n      http: /\n      tcp: true\n");
    check_at(error, ErrorCode::invalid_value, 7, 7);
    CHECK(error.message == "'services.api.health': a health check has one probe, found both 'http' and 'tcp'");

    const Error none = parse_error("version: 1\nservices:\n  api:\n    run: a\n    health:\n      interval: 1s\n");
    check_at(none, ErrorCode::missing_field, 6, 7);

    const Error status = parse_error(
        "version: 1\nservices:\n  api:\n    run: a\n    health:\n      tcp: true\n      expect_status: 200\n");
    check_at(status, ErrorCode::invalid_value, 7, 7);
}

TEST_CASE("a workdir must stay inside the project root") {
    const Error up = parse_error("version: 1\nservices:\n  api:\n    run: a\n    workdir: src/../../x\n");
    check_at(up, ErrorCode::invalid_value, 5, 14);
    CHECK(up.message == "'services.api.workdir': 'src/../../x' leaves the project root");

    const Error absolute = parse_error("version: 1\nservices:\n  api:\n    run: a\n    workdir: /srv/api\n");
    check_at(absolute, ErrorCode::invalid_value, 5, 14);
}

TEST_CASE("service names are checked") {
    const Error error = parse_error("version: 1\nservices:\n  Api:\n    run: a\n");
    check_at(error, ErrorCode::invalid_value, 3, 3);
}

TEST_CASE("an override body is validated even though the parser does not apply it") {
    const Error error = parse_error(
        "version: 1\nservices:\n  api:\n    run: a\n    overrides:\n      someday:\n        replicas: 0\n");
    check_at(error, ErrorCode::invalid_value, 7, 19);
    CHECK(error.message == "'services.api.overrides.someday.replicas': 0 is out of range (1 to 100)");

    const Error not_overridable = parse_error(
        "version: 1\nservices:\n  api:\n    run: a\n    overrides:\n      someday:\n        depends_on: [b]\n");
    check_at(not_overridable, ErrorCode::unknown_key, 7, 9);
}

TEST_CASE("an empty file or a document that is not a mapping") {
    const Error empty = parse_error("");
    CHECK(empty.code == ErrorCode::missing_field);
    CHECK(empty.location.file == "tandem.yaml");
    CHECK(empty.location.line == 0);
    CHECK(empty.message == "the file is empty; it needs 'version: 1' and 'services:'");

    const Error list = parse_error("- version: 1\n");
    check_at(list, ErrorCode::invalid_value, 1, 1);
    CHECK(list.message == "the document: expected a mapping, found a list");

    const Error null_services = parse_error("version: 1\nservices:\n");
    check_at(null_services, ErrorCode::invalid_value, 2, 1);
    CHECK(null_services.message == "'services': expected a mapping, found nothing");
}

TEST_CASE("a policy set must be a mapping or a file path") {
    const Error error = parse_error("version: 1\npolicies:\n  qa: [a]\nservices: {}\n");
    check_at(error, ErrorCode::invalid_value, 3, 7);
    CHECK(error.message == "'policies.qa': expected a policy set (a mapping) or the path of a policy file");
}

TEST_CASE("an error about an empty value points at its key, not at the next line") {
    const Error port = parse_error("version: 1\nservices:\n  api:\n    run: a\n    port:\n    replicas: 2\n");
    check_at(port, ErrorCode::invalid_value, 5, 5);
    CHECK(port.message == "'services.api.port': expected a whole number");

    const Error service = parse_error("version: 1\nservices:\n  api:\n  web:\n    run: w\n");
    check_at(service, ErrorCode::invalid_value, 3, 3);

    const Error interval = parse_error(
        "version: 1\nservices:\n  api:\n    run: a\n    health:\n      tcp: true\n      interval:\n      timeout: 1s\n");
    check_at(interval, ErrorCode::invalid_value, 7, 7);
}

TEST_CASE("a job cannot have a port, replicas or a health probe, and the error points at job:") {
    const Error port = parse_error("version: 1\nservices:\n  migrate:\n    run: ./migrate\n    job: true\n    port: 8080\n");
    check_at(port, ErrorCode::invalid_value, 5, 10);
    CHECK(port.message.find("'services.migrate': a job (job: true) runs once to completion and cannot have 'port'") == 0);
    const Error replicas = parse_error("version: 1\nservices:\n  m:\n    run: ./m\n    replicas: 2\n    job: true\n");
    CHECK(replicas.message.find("cannot have 'replicas'") != std::string::npos);
    const Error health = parse_error("version: 1\nservices:\n  m:\n    job: true\n    run: ./m\n    health: {tcp: true}\n");
    CHECK(health.message.find("cannot have 'health'") != std::string::npos);
    const Error not_bool = parse_error("version: 1\nservices:\n  m:\n    run: ./m\n    job: sometimes\n");
    check_at(not_bool, ErrorCode::invalid_value, 5, 10);
}

TEST_CASE("job: true parses and changes the fingerprint, job: false leaves it as it was") {
    auto job = config::parse_spec("version: 1\nservices:\n  m:\n    run: ./m\n    job: true\n", "tandem.yaml");
    auto plain = config::parse_spec("version: 1\nservices:\n  m:\n    run: ./m\n    job: false\n", "tandem.yaml");
    auto unset = config::parse_spec("version: 1\nservices:\n  m:\n    run: ./m\n", "tandem.yaml");
    REQUIRE(job.ok());
    REQUIRE(plain.ok());
    REQUIRE(unset.ok());
    CHECK(job->spec.services[0].job);
    CHECK(fingerprint(job->spec.services[0]) != fingerprint(unset->spec.services[0]));
    CHECK(fingerprint(plain->spec.services[0]) == fingerprint(unset->spec.services[0]));
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
        CHECK(error.message.find("'services.job'") != std::string::npos);
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
    CHECK(uid.message.find("no user has uid 4000000000") != std::string::npos);
    const Error in_override = parse_error(
        "version: 1\nservices:\n  db:\n    run: ./db\n    overrides:\n      harness:\n        user: nobody-at-all\n");
    check_at(in_override, ErrorCode::invalid_value, 7, 15);
    CHECK(in_override.message.find("'services.db.overrides.harness.user'") != std::string::npos);
}

TEST_CASE("services that share a state must run as the same user") {
    const Error error = parse_error(
        "version: 1\nservices:\n  db:\n    run: ./db\n    state: [pgdata]\n    user: root\n"
        "  migrate:\n    run: ./m\n    state: [pgdata]\n    user: nobody\n");
    check_at(error, ErrorCode::invalid_value, 10, 11);
    CHECK(error.message == "'services.migrate.user': 'migrate' runs as 'nobody' but shares state 'pgdata' with 'db', "
                           "which runs as 'root' (a state directory has one owner: give both services the same user)");
    // The same user written two ways, or a service that runs as the engine's user, is fine.
    CHECK(config::parse_spec("version: 1\nservices:\n  db:\n    run: ./db\n    state: [pgdata]\n    user: root\n"
                             "  migrate:\n    run: ./m\n    state: [pgdata]\n    user: 0\n  admin:\n    run: ./a\n"
                             "    state: [pgdata]\n",
                             "tandem.yaml")
              .ok());
}
