// Tests of a plan's two faces: the table people read and the JSON programs parse.
#include <tandem/plan.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

namespace {

using tandem::Action;
using tandem::ActionKind;
using tandem::Plan;
using Json = nlohmann::json;

Action action(ActionKind kind, const std::string& service, const std::string& reason) {
    Action a;
    a.kind = kind;
    a.service = service;
    a.reason = reason;
    return a;
}

Action build(const std::string& service, bool immutable, bool cancellable, const std::string& reason) {
    Action a = action(ActionKind::build, service, reason);
    a.command = "make " + service;
    a.immutable = immutable;
    a.cancellable = cancellable;
    return a;
}

Action launch(ActionKind kind, const std::string& service, int replicas, tandem::CrashAction on_crash,
              bool verify_digest, const std::string& reason) {
    Action a = action(kind, service, reason);
    a.replicas = replicas;
    a.on_crash = on_crash;
    a.verify_digest = verify_digest;
    return a;
}

// The design's example: harness bootstrapping db then api.
Plan harness_bootstrap() {
    Plan plan;
    plan.policy = "harness";
    plan.revision = "abc123";
    plan.bootstrap = true;
    plan.incident = true;
    plan.max_parallel = 1;
    plan.audit_path = "audit.jsonl";
    plan.history_keep = 10;
    const auto revert = tandem::CrashAction::revert;
    const tandem::Step db{"db", {build("db", true, false, "bootstrap"),
                                 launch(ActionKind::start, "db", 1, revert, true, "bootstrap")}};
    const tandem::Step api{"api", {build("api", true, false, "bootstrap"),
                                   launch(ActionKind::start, "api", 2, revert, true, "bootstrap")}};
    plan.waves = {tandem::Wave{{db}}, tandem::Wave{{api}}};
    return plan;
}

// A dev loop's plan with every other kind of action.
Plan wip_update() {
    Plan plan;
    plan.policy = "wip";
    Action reset = action(ActionKind::reset, "db", "reset requested");
    reset.command = "./reset-db";
    Action db_replace = launch(ActionKind::replace, "db", 1, tandem::CrashAction::restart, false, "reset requested");
    db_replace.rollout = tandem::RolloutParams{};
    Action run = action(ActionKind::run, "web", "web/package.json changed");
    run.command = "npm install";
    run.paths = {"web/package.json"};
    Action web_replace =
        launch(ActionKind::replace, "web", 3, tandem::CrashAction::restart, false, "web/package.json changed");
    web_replace.rollout = tandem::RolloutParams{tandem::RolloutStrategy::rolling, 1, 0, true,
                                                tandem::Duration{60000}, tandem::Duration{30000}};
    web_replace.auto_revert = true;
    web_replace.paths = {"web/package.json"};
    web_replace.env = {{"PORT", "8080"}, {"API_TOKEN", "<redacted>"}};
    Action sync = action(ActionKind::sync, "docs", "2 files changed");
    sync.paths = {"docs/a.md", "docs/b.md"};
    plan.waves = {tandem::Wave{{tandem::Step{"legacy", {action(ActionKind::stop, "legacy", "removed from the spec")}},
                                tandem::Step{"db", {reset, db_replace}}}},
                  tandem::Wave{{tandem::Step{"web", {run, web_replace}}, tandem::Step{"docs", {sync}}}}};
    return plan;
}

std::set<std::string> keys(const Json& object) {
    std::set<std::string> out;
    for (const auto& item : object.items()) out.insert(item.key());
    return out;
}

tandem::PolicySet policy(const char* name) {
    auto set = tandem::builtin_policy(name);
    REQUIRE_MESSAGE(set.ok(), set.error().to_string());
    return *set;
}

}  // namespace

TEST_CASE("format_table: the harness bootstrap example, aligned") {
    CHECK(tandem::format_table(harness_bootstrap()) ==
          "plan for policy 'harness' at revision abc123 — bootstrap (incident: explicit flag)\n"
          "audit: audit.jsonl · history: 10 revisions · at most 1 update at a time\n"
          "wave 1\n"
          "  db   build  make db     immutable (bootstrap)\n"
          "  db   start  1 replica   on crash: revert · digest checked\n"
          "wave 2\n"
          "  api  build  make api    immutable (bootstrap)\n"
          "  api  start  2 replicas  on crash: revert · digest checked\n");
}

TEST_CASE("format_table: every kind of action, and a header without obligations") {
    CHECK(tandem::format_table(wip_update()) ==
          "plan for policy 'wip'\n"
          "audit: off · history: none · all updates at once\n"
          "wave 1\n"
          "  legacy  stop                          (removed from the spec)\n"
          "  db      reset    ./reset-db           (reset requested)\n"
          "  db      replace  1 replica, recreate  on crash: restart\n"
          "wave 2\n"
          "  web     run      npm install          (web/package.json changed)\n"
          "  web     replace  3 replicas, rolling  surge 1, unavailable 0 · health gate 1m · "
          "on crash: restart · auto-revert\n"
          "  docs    sync     docs/a.md docs/b.md  (2 files changed)\n");
}

TEST_CASE("format_table: an empty plan says there is nothing to do") {
    Plan plan;
    plan.policy = "wip";
    CHECK(tandem::format_table(plan) == "nothing to do: the running services match the spec\n");
}

TEST_CASE("to_json: the header and every field that applies to each kind") {
    const Json json = Json::parse(tandem::to_json(wip_update()));
    CHECK(keys(json) == std::set<std::string>{"policy", "revision", "bootstrap", "incident", "max_parallel",
                                              "audit_path", "history_keep", "waves", "waiting"});
    CHECK(json["policy"] == "wip");
    CHECK(json["revision"] == "");
    CHECK(json["bootstrap"] == false);
    CHECK(json["incident"] == false);
    CHECK(json["max_parallel"] == 0);
    CHECK(json["audit_path"].is_null());
    CHECK(json["history_keep"] == 0);
    REQUIRE(json["waves"].size() == 2);
    const Json& first = json["waves"][0]["steps"];
    REQUIRE(first.size() == 2);
    CHECK(first[0]["service"] == "legacy");
    CHECK(first[1]["service"] == "db");

    const Json& stop = first[0]["actions"][0];
    CHECK(keys(stop) == std::set<std::string>{"kind", "service", "reason"});
    CHECK(stop["kind"] == "stop");
    CHECK(stop["service"] == "legacy");
    CHECK(stop["reason"] == "removed from the spec");

    const Json& reset = first[1]["actions"][0];
    CHECK(keys(reset) == std::set<std::string>{"kind", "service", "reason", "command"});
    CHECK(reset["command"] == "./reset-db");

    const Json& second = json["waves"][1]["steps"];
    REQUIRE(second.size() == 2);
    const Json& run = second[0]["actions"][0];
    CHECK(keys(run) == std::set<std::string>{"kind", "service", "reason", "command", "paths"});
    CHECK(run["paths"] == Json::array({"web/package.json"}));

    const Json& replace = second[0]["actions"][1];
    CHECK(keys(replace) == std::set<std::string>{"kind", "service", "reason", "paths", "replicas", "rollout",
                                                 "verify_digest", "on_crash", "auto_revert", "env"});
    CHECK(replace["replicas"] == 3);
    CHECK(replace["on_crash"] == "restart");
    CHECK(replace["auto_revert"] == true);
    CHECK(replace["verify_digest"] == false);
    CHECK(replace["rollout"] == Json{{"strategy", "rolling"},
                                     {"max_surge", 1},
                                     {"max_unavailable", 0},
                                     {"health_gate", true},
                                     {"gate_timeout_ms", 60000},
                                     {"drain_timeout_ms", 30000}});
    CHECK(replace["env"] == Json{{"PORT", "8080"}, {"API_TOKEN", "<redacted>"}});
    // The environment keeps the spec's order.
    const std::string text = tandem::to_json(wip_update());
    CHECK(text.find("\"PORT\"") < text.find("\"API_TOKEN\""));

    const Json& sync = second[1]["actions"][0];
    CHECK(keys(sync) == std::set<std::string>{"kind", "service", "reason", "paths"});
    CHECK(sync["paths"] == Json::array({"docs/a.md", "docs/b.md"}));
}

TEST_CASE("to_json: a build and a start, and the compact form") {
    const std::string text = tandem::to_json(harness_bootstrap(), -1);
    CHECK(text.find('\n') == std::string::npos);
    const Json json = Json::parse(text);
    CHECK(json["policy"] == "harness");
    CHECK(json["revision"] == "abc123");
    CHECK(json["bootstrap"] == true);
    CHECK(json["incident"] == true);
    CHECK(json["max_parallel"] == 1);
    CHECK(json["audit_path"] == "audit.jsonl");
    CHECK(json["history_keep"] == 10);
    const Json& actions = json["waves"][0]["steps"][0]["actions"];
    REQUIRE(actions.size() == 2);
    CHECK(keys(actions[0]) ==
          std::set<std::string>{"kind", "service", "reason", "command", "cancellable", "immutable", "sandboxed"});
    CHECK(actions[0]["command"] == "make db");
    CHECK(actions[0]["immutable"] == true);
    CHECK(actions[0]["cancellable"] == false);
    CHECK(keys(actions[1]) ==
          std::set<std::string>{"kind", "service", "reason", "replicas", "verify_digest", "on_crash", "env"});
    CHECK(actions[1]["on_crash"] == "revert");
    CHECK(actions[1]["env"] == Json::object());
}

TEST_CASE("to_json: bytes that are not UTF-8 do not throw") {
    Plan plan = wip_update();
    plan.waves[1].steps[1].actions[0].paths = {"docs/caf\xe9.md"};
    const std::string text = tandem::to_json(plan);
    Json parsed;
    CHECK_NOTHROW(parsed = Json::parse(text));
    CHECK(parsed["waves"][1]["steps"][1]["actions"][0]["paths"][0].is_string());
}

TEST_CASE("to_json and format_table of a real harness plan") {
    tandem::ServiceSpec db;
    db.name = "db";
    db.run.argv = {"postgres"};
    db.env = {{"POSTGRES_PASSWORD", "hunter2"}};
    tandem::ServiceSpec api;
    api.name = "api";
    api.run.argv = {"./api"};
    api.depends_on = {"db"};
    api.build = tandem::BuildSpec{"make api", {"api/**"}, {"out/api"}, {}};
    tandem::Spec spec;
    spec.file = "tandem.yaml";
    spec.services = {db, api};
    tandem::PlanRequest request;
    request.bootstrap = true;
    request.revision = "abc123";

    auto plan = tandem::make_plan(spec, {}, policy("harness"), request);
    REQUIRE_MESSAGE(plan.ok(), plan.error().to_string());
    const Json json = Json::parse(tandem::to_json(*plan));
    CHECK(json["incident"] == true);
    REQUIRE(json["waves"].size() == 2);
    CHECK(json["waves"][0]["steps"][0]["actions"][0]["env"] == Json{{"POSTGRES_PASSWORD", "<redacted>"}});
    CHECK(json["waves"][1]["steps"][0]["actions"][0]["kind"] == "build");

    const std::string table = tandem::format_table(*plan);
    CHECK(table.rfind("plan for policy 'harness' at revision abc123 — bootstrap (incident: explicit flag)\n", 0) == 0);
    CHECK(table.find("audit: audit.jsonl · history: 10 revisions · at most 1 update at a time\n") != std::string::npos);
    CHECK(table.find("  db   start  1 replica  on crash: revert · digest checked (bootstrap)\n") != std::string::npos);
    CHECK(table.find("  api  build  make api   immutable · sandboxed (bootstrap)\n") != std::string::npos);
    CHECK(json["waves"][1]["steps"][0]["actions"][0]["sandboxed"] == true);

    const Json wip = Json::parse(tandem::to_json(*tandem::make_plan(spec, {}, policy("wip"), request)));
    CHECK(wip["audit_path"].is_null());
    CHECK(wip["waves"][0]["steps"][0]["actions"][0]["env"] == Json{{"POSTGRES_PASSWORD", "hunter2"}});
}

TEST_CASE("format_table: a multi-line build command (build: |) is one line, cut when long, and the columns stay aligned") {
    Plan plan;
    plan.policy = "wip";
    Action multi = build("api", false, false, "bootstrap");
    multi.command = "set -e\n  npm ci\n\nnpm run build\n";  // what `build: |` gives, indented lines and all
    Action long_one = build("web", false, false, "bootstrap");
    long_one.command = "python3 -m pip install --no-cache-dir --requirement requirements.txt\ncp -r static out/\n";
    plan.waves = {tandem::Wave{{tandem::Step{"api", {multi}}, tandem::Step{"web", {long_one}}}}};
    CHECK(tandem::format_table(plan) ==
          "plan for policy 'wip'\n"
          "audit: off · history: none · all updates at once\n"
          "wave 1\n"
          "  api  build  set -e ⏎ npm ci ⏎ npm run build                               (bootstrap)\n"
          "  web  build  python3 -m pip install --no-cache-dir --requirement require…  (bootstrap)\n");
}

TEST_CASE("format_table: a column's width counts characters, so a wide (CJK) command pads as many as it has") {
    Plan plan;
    plan.policy = "wip";
    Action wide = build("api", false, false, "bootstrap");
    wide.command = "echo 日本語";  // 8 characters, 14 bytes
    Action narrow = build("web", false, false, "bootstrap");
    narrow.command = "make web-and-more";
    plan.waves = {tandem::Wave{{tandem::Step{"api", {wide}}, tandem::Step{"web", {narrow}}}}};
    CHECK(tandem::format_table(plan) ==
          "plan for policy 'wip'\n"
          "audit: off · history: none · all updates at once\n"
          "wave 1\n"
          "  api  build  echo 日本語           (bootstrap)\n"
          "  web  build  make web-and-more  (bootstrap)\n");
}
