// tandem.yaml into a Spec: a full file read into every field, with the locations kept.
#include <doctest/doctest.h>

#include "config/spec_parser.hpp"

#include <string>
#include <string_view>

using namespace tandem;

namespace {

Spec parse_ok(std::string_view text) {
    auto parsed = config::parse_spec(text, "tandem.yaml");
    if (!parsed) FAIL("unexpected error: " << parsed.error().to_string());
    return parsed->spec;
}

const char* const kFullSpec = R"(version: 1
project: shop
policy: harness
policies:
  staging:
    from: harness
    database: {reset: allow}
  qa: policies/qa.yaml
access:
  roles:
    ops: [status, logs, sync, rollback]
    admin: ["*"]
services:
  db:
    run: ["./db", "--port", "${port}"]
    port: 5432
    reset: "rm -rf data"
    health:
      tcp: true
  api:
    run: "./api serve"
    build:
      command: make api
      inputs: ["src/**", "./Makefile"]
      outputs: [bin/api]
    workdir: ./services/api/
    port: 8080
    replicas: 2
    env:
      DB_URL: "postgres://127.0.0.1:${services.db.port}/shop"
      LISTEN: "${port}"
      MODE: fast
    health:
      http: /healthz
      expect_status: 204
      initial_delay: 250ms
      interval: 2s
      timeout: 500ms
      success_threshold: 2
      failure_threshold: 5
    depends_on: [db]
    watch:
      - paths: ["src/**"]
        action: rebuild
      - paths: static/**
        action: sync
      - paths: [migrations/*.sql, schema.sql]
        action: run
        command: ./migrate
      - paths: conf/*
    reset: {command: ./wipe}
    stop_grace: 1m
  worker:
    run: [./worker]
    build: make worker
    health:
      exec: ["./check", "--quick"]
    depends_on: api
    overrides:
      harness:
        replicas: 3
)";

}  // namespace

TEST_CASE("a full tandem.yaml is read into every field") {
    const Spec spec = parse_ok(kFullSpec);
    CHECK(spec.version == 1);
    CHECK(spec.project == "shop");
    CHECK(spec.policy == std::optional<std::string>("harness"));
    CHECK(spec.file == "tandem.yaml");
    REQUIRE(spec.roles.size() == 2);
    CHECK(spec.roles[0].name == "ops");
    CHECK(spec.roles[0].actions == std::vector<std::string>{"status", "logs", "sync", "rollback"});
    CHECK(spec.roles[1].actions == std::vector<std::string>{"*"});
    CHECK(spec.roles[1].location.line == 12);
    CHECK_FALSE(spec.api_port.has_value());
    REQUIRE(spec.services.size() == 3);

    const ServiceSpec& db = spec.services[0];
    CHECK(db.name == "db");
    CHECK(db.location.line == 14);
    CHECK(db.location.column == 3);
    CHECK(db.run.argv == std::vector<std::string>{"./db", "--port", "${port}"});
    CHECK_FALSE(db.run.shell);
    CHECK(db.run.location.line == 15);
    CHECK(db.port == 5432);
    CHECK(db.replicas == 1);
    CHECK(db.workdir == ".");
    CHECK_FALSE(db.build);
    REQUIRE(db.reset);
    CHECK(db.reset->command == "rm -rf data");
    REQUIRE(db.health);
    CHECK(db.health->kind == ProbeKind::tcp);
    CHECK(db.health->interval == Duration(1000));  // defaults when not written
    CHECK(db.health->timeout == Duration(1000));
    CHECK(db.health->success_threshold == 1);
    CHECK(db.health->failure_threshold == 3);
    CHECK(db.stop_grace == Duration(5000));
    CHECK(db.env.empty());
    CHECK(db.watch.empty());

    const ServiceSpec& api = spec.services[1];
    CHECK(api.run.argv == std::vector<std::string>{"/bin/sh", "-c", "./api serve"});
    CHECK(api.run.shell);
    REQUIRE(api.build);
    CHECK(api.build->command == "make api");
    CHECK(api.build->inputs == std::vector<std::string>{"src/**", "Makefile"});
    CHECK(api.build->outputs == std::vector<std::string>{"bin/api"});
    CHECK(api.build->location.line == 23);
    CHECK(api.workdir == "services/api");
    CHECK(api.port == 8080);
    CHECK(api.replicas == 2);
    REQUIRE(api.env.size() == 3);
    CHECK(api.env[0] == std::pair<std::string, std::string>{"DB_URL", "postgres://127.0.0.1:${services.db.port}/shop"});
    CHECK(api.env[1] == std::pair<std::string, std::string>{"LISTEN", "${port}"});
    CHECK(api.env[2] == std::pair<std::string, std::string>{"MODE", "fast"});
    REQUIRE(api.health);
    CHECK(api.health->kind == ProbeKind::http);
    CHECK(api.health->path == "/healthz");
    CHECK(api.health->expect_status == 204);
    CHECK(api.health->initial_delay == Duration(250));
    CHECK(api.health->interval == Duration(2000));
    CHECK(api.health->timeout == Duration(500));
    CHECK(api.health->success_threshold == 2);
    CHECK(api.health->failure_threshold == 5);
    CHECK(api.health->location.line == 34);
    CHECK(api.depends_on == std::vector<std::string>{"db"});
    REQUIRE(api.watch.size() == 4);
    CHECK(api.watch[0].paths == std::vector<std::string>{"src/**"});
    CHECK(api.watch[0].action == WatchAction::rebuild);
    CHECK(api.watch[1].paths == std::vector<std::string>{"static/**"});
    CHECK(api.watch[1].action == WatchAction::sync);
    CHECK(api.watch[2].paths == std::vector<std::string>{"migrations/*.sql", "schema.sql"});
    CHECK(api.watch[2].action == WatchAction::run);
    CHECK(api.watch[2].command == "./migrate");
    CHECK(api.watch[2].location.line == 47);
    CHECK(api.watch[3].action == WatchAction::rebuild);  // the default action
    REQUIRE(api.reset);
    CHECK(api.reset->command == "./wipe");
    CHECK(api.stop_grace == Duration(60000));

    const ServiceSpec& worker = spec.services[2];
    CHECK(worker.run.argv == std::vector<std::string>{"./worker"});
    REQUIRE(worker.build);
    CHECK(worker.build->command == "make worker");
    CHECK(worker.build->inputs.empty());
    REQUIRE(worker.health);
    CHECK(worker.health->kind == ProbeKind::exec);
    CHECK(worker.health->command == std::vector<std::string>{"./check", "--quick"});
    CHECK(worker.depends_on == std::vector<std::string>{"api"});
    CHECK(worker.replicas == 1);  // overrides are not applied by the parser
}

TEST_CASE("the parser keeps the locations the project loader needs") {
    auto parsed = config::parse_spec(kFullSpec, "tandem.yaml");
    REQUIRE(parsed.ok());
    CHECK(parsed->policy_location.line == 3);
    CHECK(parsed->policy_location.column == 9);
    REQUIRE(parsed->policies.size() == 2);
    CHECK(parsed->policies[0].name == "staging");
    CHECK_FALSE(parsed->policies[0].file);
    CHECK(parsed->policies[1].file == std::optional<std::string>("policies/qa.yaml"));
    REQUIRE(parsed->sources.size() == 3);
    CHECK(parsed->sources[1].port.line == 27);
    REQUIRE(parsed->sources[2].overrides.size() == 1);
    CHECK(parsed->sources[2].overrides[0].key == "harness");
}

TEST_CASE("a string health exec and a lone string depends_on are accepted") {
    const Spec spec = parse_ok("version: 1\nservices:\n  a:\n    run: x\n    health: {exec: \"curl -f localhost\"}\n");
    REQUIRE(spec.services[0].health);
    CHECK(spec.services[0].health->command == std::vector<std::string>{"/bin/sh", "-c", "curl -f localhost"});
}

TEST_CASE("access.port sets the HTTP API's port, and a port out of range names the key") {
    const Spec spec = parse_ok("version: 1\naccess:\n  port: 10400\nservices:\n  a:\n    run: a\n");
    CHECK(spec.api_port == std::optional<int>(10400));
    auto bad = tandem::config::parse_spec("version: 1\naccess:\n  port: 70000\nservices:\n  a:\n    run: a\n", "tandem.yaml");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().location.line == 3);
    CHECK(bad.error().to_string().find("port") != std::string::npos);
}

TEST_CASE("build.inputs: [] is accepted as no inputs, while a watch rule still needs a path") {
    const Spec spec = parse_ok("version: 1\nservices:\n  a:\n    run: x\n    build: {command: make, inputs: []}\n");
    REQUIRE(spec.services[0].build);
    CHECK(spec.services[0].build->inputs.empty());
    auto rule = config::parse_spec("version: 1\nservices:\n  a:\n    run: x\n    watch: [{paths: []}]\n", "tandem.yaml");
    REQUIRE_FALSE(rule.ok());
    CHECK(rule.error().to_string().find("must name at least one path") != std::string::npos);
}

TEST_CASE("build.network is a boolean, false unless set, and another value names the key with its line") {
    const Spec plain = parse_ok("version: 1\nservices:\n  a:\n    run: x\n    build: {command: make}\n");
    CHECK_FALSE(plain.services[0].build->network);
    const Spec open = parse_ok("version: 1\nservices:\n  a:\n    run: x\n    build: {command: make, network: true}\n");
    CHECK(open.services[0].build->network);
    CHECK(fingerprint(open, open.services[0]) != fingerprint(plain, plain.services[0]));  // rebuilt when it changes
    auto bad = config::parse_spec("version: 1\nservices:\n  a:\n    run: x\n    build:\n      command: make\n"
                                  "      network: sometimes\n",
                                  "tandem.yaml");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().location.line == 7);
    CHECK_MESSAGE(bad.error().to_string().find("network") != std::string::npos, bad.error().to_string());
}
