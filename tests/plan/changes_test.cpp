// Tests of how changed paths become actions: watch rules, build inputs, the strongest rule,
// live updates, and merging with other causes.
#include <tandem/plan.hpp>

#include "plan/changes.hpp"
#include "support/glob.hpp"

#include <doctest/doctest.h>

#include "plan/plan_builders.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace tandem::test;  // the builders

using tandem::Action;
using tandem::ActionKind;
using tandem::Observed;
using tandem::Plan;
using tandem::PlanRequest;
using tandem::PolicySet;
using tandem::ServiceSpec;
using tandem::Spec;
using tandem::WatchAction;
using tandem::WatchRule;
using Paths = std::vector<std::string>;
using Kinds = std::vector<ActionKind>;

PlanRequest changed(Paths paths) {
    PlanRequest request;
    request.changed_paths = std::move(paths);
    return request;
}

Kinds kinds(const tandem::Step& step) {
    Kinds out;
    for (const Action& action : step.actions) out.push_back(action.kind);
    return out;
}

// The one step of a plan that has exactly one (a copy: plans are often temporaries here).
tandem::Step single_step(const Plan& plan) {
    REQUIRE(plan.waves.size() == 1);
    REQUIRE(plan.waves[0].steps.size() == 1);
    return plan.waves[0].steps[0];
}

// web reads static/ itself, restarts on config/, runs npm install on package.json and
// rebuilds on web/src/** (its build inputs).
ServiceSpec web_with_rules() {
    ServiceSpec web = built("web");
    web.watch = {WatchRule{{"web/static/**"}, WatchAction::sync, "", {}, {}},
                 WatchRule{{"web/config/*.yaml"}, WatchAction::restart, "", {}, {}},
                 WatchRule{{"web/package.json"}, WatchAction::run, "npm install", {}, {}}};
    return web;
}

}  // namespace

TEST_CASE("changes: a changed path that no rule or build input matches plans nothing") {
    const Spec spec = spec_of({web_with_rules(), built("api")});
    const Plan plan = plan_ok(spec, running(spec, {"web", "api"}), changed({"README.md", "docs/index.md", "web"}));
    CHECK(plan.empty());
}

TEST_CASE("changes: a run rule runs its command, then replaces") {
    const Spec spec = spec_of({web_with_rules()});
    const tandem::Step step = single_step(plan_ok(spec, running(spec, {"web"}), changed({"./web/package.json"})));
    REQUIRE(kinds(step) == Kinds{ActionKind::run, ActionKind::replace});
    CHECK(step.actions[0].command == "npm install");
    CHECK(step.actions[0].paths == Paths{"./web/package.json"});
    CHECK(step.actions[0].reason == "./web/package.json changed");
    CHECK(step.actions[1].reason == "./web/package.json changed");
}

TEST_CASE("changes: a restart rule replaces without a build") {
    const Spec spec = spec_of({web_with_rules()});
    const tandem::Step step = single_step(plan_ok(spec, running(spec, {"web"}), changed({"web/config/app.yaml"})));
    CHECK(kinds(step) == Kinds{ActionKind::replace});
    CHECK(step.actions[0].paths == Paths{"web/config/app.yaml"});
}

// A commit's files are in a release directory of their own: what a sync rule matched cannot
// reach the replicas where they run, so they restart from the new directory, and a build whose
// output is not stored runs there first.
TEST_CASE("changes: when the files are not in place, a sync rule rebuilds a built service and restarts another") {
    const Spec spec = spec_of({web_with_rules()});
    PlanRequest request = changed({"web/static/a.css"});
    request.files_in_place = false;
    const tandem::Step step = single_step(plan_ok(spec, running(spec, {"web"}), request));
    REQUIRE(kinds(step) == Kinds{ActionKind::build, ActionKind::replace});
    CHECK(step.actions[1].paths == Paths{"web/static/a.css"});
    CHECK(step.actions[1].reason == "web/static/a.css changed (in the new revision's files)");

    ServiceSpec docs = service("docs");
    docs.watch = {WatchRule{{"docs/static/**"}, WatchAction::sync, "", {}, {}}};
    const Spec plain = spec_of({docs});
    PlanRequest moved = changed({"docs/static/a.css", "README.md"});
    CHECK(kinds(single_step(plan_ok(plain, running(plain, {"docs"}), moved))) == Kinds{ActionKind::sync});
    moved.files_in_place = false;
    const tandem::Step restart = single_step(plan_ok(plain, running(plain, {"docs"}), moved));
    REQUIRE(kinds(restart) == Kinds{ActionKind::replace});
    CHECK(restart.actions[0].paths == Paths{"docs/static/a.css"});
}

TEST_CASE("changes: the strongest action wins: rebuild > run > restart > sync") {
    const Spec spec = spec_of({web_with_rules()});
    const Observed observed = running(spec, {"web"});

    const tandem::Step syncs = single_step(plan_ok(spec, observed, changed({"web/static/a.css", "web/static/b.js"})));
    REQUIRE(kinds(syncs) == Kinds{ActionKind::sync});
    CHECK(syncs.actions[0].paths == Paths{"web/static/a.css", "web/static/b.js"});
    CHECK(syncs.actions[0].reason == "2 files changed");

    const tandem::Step restart =
        single_step(plan_ok(spec, observed, changed({"web/static/a.css", "web/config/x.yaml"})));
    CHECK(kinds(restart) == Kinds{ActionKind::replace});  // the replacement reads the new static files anyway
    CHECK(restart.actions[0].paths == Paths{"web/static/a.css", "web/config/x.yaml"});

    const tandem::Step& run =
        single_step(plan_ok(spec, observed, changed({"web/config/x.yaml", "web/package.json", "web/static/a.css"})));
    REQUIRE(kinds(run) == Kinds{ActionKind::run, ActionKind::replace});
    CHECK(run.actions[0].paths == Paths{"web/package.json"});
    CHECK(run.actions[1].reason == "3 files changed");

    const tandem::Step rebuild = single_step(
        plan_ok(spec, observed, changed({"web/package.json", "web/src/app.ts", "web/config/x.yaml", "web/static/a"})));
    REQUIRE(kinds(rebuild) == Kinds{ActionKind::build, ActionKind::replace});
    CHECK(rebuild.actions[0].paths == Paths{"web/package.json", "web/src/app.ts", "web/config/x.yaml", "web/static/a"});
    CHECK(rebuild.actions[0].reason == "4 files changed");
}

TEST_CASE("changes: the first matching watch rule decides, before build inputs") {
    ServiceSpec api = built("api");
    api.watch = {WatchRule{{"api/src/templates/**"}, WatchAction::sync, "", {}, {}},
                 WatchRule{{"api/src/**"}, WatchAction::restart, "", {}, {}}};
    const Spec spec = spec_of({api});
    const Observed observed = running(spec, {"api"});
    CHECK(kinds(single_step(plan_ok(spec, observed, changed({"api/src/templates/home.html"})))) ==
          Kinds{ActionKind::sync});
    CHECK(kinds(single_step(plan_ok(spec, observed, changed({"api/src/main.go"})))) == Kinds{ActionKind::replace});

    ServiceSpec plain = built("api");  // no watch rules: its build inputs rebuild
    const Spec inputs_only = spec_of({plain});
    CHECK(kinds(single_step(plan_ok(inputs_only, running(inputs_only, {"api"}), changed({"api/src/main.go"})))) ==
          Kinds{ActionKind::build, ActionKind::replace});
}

TEST_CASE("changes: without live updates every matched change is a build and a replace") {
    PolicySet careful = dev_policy();
    careful.updates.live = false;
    const Spec spec = spec_of({web_with_rules(), service("static", {})});
    const Observed observed = running(spec, {"web", "static"});
    for (const char* path : {"web/static/a.css", "web/config/app.yaml", "web/package.json", "web/src/a.ts"}) {
        CAPTURE(path);
        const tandem::Step step = single_step(plan_ok(spec, observed, changed({path}), careful));
        REQUIRE(kinds(step) == Kinds{ActionKind::build, ActionKind::replace});
        CHECK(step.actions[1].paths == Paths{path});
    }
    // A service without a build is replaced.
    ServiceSpec watcher = service("docs");
    watcher.watch = {WatchRule{{"docs/**"}, WatchAction::sync, "", {}, {}}};
    const Spec docs = spec_of({watcher});
    CHECK(kinds(single_step(plan_ok(docs, running(docs, {"docs"}), changed({"docs/a.md"}), careful))) ==
          Kinds{ActionKind::replace});
}

TEST_CASE("changes: causes for one service merge into one step without duplicate actions") {
    const Spec spec = spec_of({web_with_rules()});
    Observed observed = running(spec, {"web"});
    observed.services["web"].fingerprint = "sha256:older";
    PlanRequest request = changed({"web/src/main.ts", "web/package.json"});
    request.trigger = {"web", "web"};
    const tandem::Step step = single_step(plan_ok(spec, observed, request));
    REQUIRE(kinds(step) == Kinds{ActionKind::build, ActionKind::replace});
    CHECK(step.actions[0].reason == "spec changed, 2 files changed, triggered");
    CHECK(step.actions[1].reason == "spec changed, 2 files changed, triggered");
    CHECK(step.actions[1].paths == Paths{"web/src/main.ts", "web/package.json"});
}

TEST_CASE("changes: match_changes lists each path once and groups run rules by command") {
    ServiceSpec web = web_with_rules();
    web.watch.push_back(WatchRule{{"web/yarn.lock"}, WatchAction::run, "npm install", {}, {}});
    web.watch.push_back(WatchRule{{"web/proto/**"}, WatchAction::run, "make proto", {}, {}});
    const tandem::ChangeMatch match = tandem::match_changes(
        web, {"web/package.json", "web/proto/a.proto", "web/yarn.lock", "web/package.json", "other/file"});
    CHECK(match.strongest == WatchAction::run);
    CHECK(match.paths == Paths{"web/package.json", "web/proto/a.proto", "web/yarn.lock"});
    CHECK(match.sync_paths.empty());
    REQUIRE(match.runs.size() == 2);
    CHECK(match.runs[0].command == "npm install");
    CHECK(match.runs[0].paths == Paths{"web/package.json", "web/yarn.lock"});
    CHECK(match.runs[1].command == "make proto");
    CHECK(match.runs[1].paths == Paths{"web/proto/a.proto"});

    // Two run rules hit: both commands run, first hit first, before the replace.
    const Spec spec = spec_of({web});
    const tandem::Step step =
        single_step(plan_ok(spec, running(spec, {"web"}), changed({"web/proto/a.proto", "web/package.json"})));
    REQUIRE(kinds(step) == Kinds{ActionKind::run, ActionKind::run, ActionKind::replace});
    CHECK(step.actions[0].command == "make proto");
    CHECK(step.actions[1].command == "npm install");
}

TEST_CASE("changes: a service without rules or inputs matches nothing") {
    const tandem::ChangeMatch match = tandem::match_changes(service("db"), {"db/data", "anything"});
    CHECK(match.empty());
    CHECK(tandem::describe_changes({"a.c"}) == "a.c changed");
    CHECK(tandem::describe_changes({"a.c", "b.c", "c.c"}) == "3 files changed");
}

TEST_CASE("changes: a new service is started, whatever its changed paths ask") {
    const Spec spec = spec_of({service("db"), web_with_rules()});
    const tandem::Step step = single_step(plan_ok(spec, running(spec, {"db"}), changed({"web/static/a.css"})));
    CHECK(kinds(step) == Kinds{ActionKind::build, ActionKind::start});
    CHECK(step.actions[1].reason == "new service");
    CHECK(step.actions[1].paths.empty());
}

TEST_CASE("changes: the path index tries only the paths under a pattern's literal segments, and misses none") {
    // Each pattern against each path, the slow way, must agree with the indexed match.
    const Paths paths{"svc/api/main.c", "svc/api2/main.c", "./svc/api/x.h", "svc/api", "svc//api/deep/y.c",
                      "svc/api-old/z.c", "other/a.conf", "top.conf", "svc/api.c"};
    const std::vector<std::vector<std::string>> pattern_sets{
        {"svc/api/**"}, {"svc/api"}, {"./svc/api/"}, {"svc/*/main.c"}, {"*.conf"}, {"**/*.conf"}, {"."},
        {"svc/api*"},   {"svc/[a]pi/main.c"}, {"svc/api/main.c", "other/**"}};
    for (const auto& patterns : pattern_sets) {
        ServiceSpec service = tandem::test::service("s");
        service.watch.push_back(WatchRule{patterns, WatchAction::restart, {}, {}, {}});
        Paths expected;
        for (const auto& path : paths)
            for (const auto& pattern : patterns)
                if (tandem::glob_match(pattern, path)) {
                    if (std::find(expected.begin(), expected.end(), path) == expected.end()) expected.push_back(path);
                    break;
                }
        INFO(patterns.front());
        CHECK(tandem::match_changes(service, paths).paths == expected);
    }
}

// A container built from `build: {context: app}`: a file of its context rebuilds the image and
// replaces the containers, unless a sync rule (with a target in the container) claims it first.
TEST_CASE("changes: a file of an image build's context rebuilds the container service, a sync rule's file goes to its target") {
    ServiceSpec web = service("web");
    web.container.emplace();
    web.container->build.emplace();
    web.container->build->context = "app";
    WatchRule sync{{"app/site/**"}, WatchAction::sync, "", {}, {}};
    sync.target = "/srv";
    sync.command = "kill -HUP 1";
    WatchRule single{{"app/conf/main.conf"}, WatchAction::sync, "", {}, {}};
    single.target = "/etc/web";
    web.watch = {sync, single};
    const Spec spec = spec_of({web, service("other")});

    const tandem::Step rebuild = single_step(plan_ok(spec, running(spec, {"web", "other"}), changed({"app/main.py"})));
    REQUIRE(kinds(rebuild) == Kinds{ActionKind::build, ActionKind::replace});
    CHECK(rebuild.actions[0].reason == "app/main.py changed");
    CHECK(plan_ok(spec, running(spec, {"web", "other"}), changed({"other/main.py", "appendix.txt"})).empty());

    const tandem::Step synced =
        single_step(plan_ok(spec, running(spec, {"web", "other"}), changed({"app/site/js/a.js", "app/conf/main.conf"})));
    REQUIRE(kinds(synced) == Kinds{ActionKind::sync});
    const auto placed = tandem::sync_placement(web, "app/site/js/a.js");
    REQUIRE(placed.has_value());
    CHECK(placed->target == "/srv/js/a.js");
    CHECK(placed->command == "kill -HUP 1");
    CHECK(tandem::sync_placement(web, "./app/conf/main.conf")->target == "/etc/web/main.conf");
    CHECK_FALSE(tandem::sync_placement(web, "app/main.py").has_value());

    // A new container service builds its image first.
    const tandem::Step fresh = single_step(plan_ok(spec_of({web}), Observed{}, [] {
        PlanRequest request;
        request.bootstrap = true;
        return request;
    }()));
    CHECK(kinds(fresh) == Kinds{ActionKind::build, ActionKind::start});
}

// With `inputs`, only the files it names rebuild the image, even with the project as context.
TEST_CASE("changes: an image build's inputs, when given, are the only files that rebuild it") {
    ServiceSpec api = service("api");
    api.container.emplace();
    api.container->build.emplace();
    api.container->build->inputs = std::vector<std::string>{"src/api.cpp", "config/**"};
    const Spec spec = spec_of({api});
    CHECK(plan_ok(spec, running(spec, {"api"}), changed({"src/store.cpp", "README.md"})).empty());
    CHECK(kinds(single_step(plan_ok(spec, running(spec, {"api"}), changed({"config/a/b.conf"})))) ==
          Kinds{ActionKind::build, ActionKind::replace});
}

// `ignore:` skips paths a rule's patterns match (the next rule or a build input decides), and
// `sync+restart` syncs the files into the containers, then replaces them.
TEST_CASE("changes: a watch rule's ignore hands a path to the next rule, and sync+restart syncs then replaces") {
    ServiceSpec web = service("web");
    web.container.emplace();
    web.container->build.emplace();
    web.container->build->context = "app";
    WatchRule sync{{"app/site/**"}, WatchAction::sync, "", "/srv", {}};
    sync.ignore = {"app/site/**/drafts", "app/site/**/drafts/**"};
    WatchRule conf{{"app/conf/**"}, WatchAction::sync, "", "/etc/web", {}};
    conf.restart_after_sync = true;
    web.watch = {sync, conf};
    const Spec spec = spec_of({web});
    const Observed observed = running(spec, {"web"});

    CHECK(kinds(single_step(plan_ok(spec, observed, changed({"app/site/index.html"})))) == Kinds{ActionKind::sync});
    // Ignored by the sync rule: the image's context claims it, so the image is built again.
    CHECK(kinds(single_step(plan_ok(spec, observed, changed({"app/site/drafts/a.html"})))) ==
          Kinds{ActionKind::build, ActionKind::replace});
    CHECK(kinds(single_step(plan_ok(spec, observed, changed({"app/site/x/drafts/b.html"})))) ==
          Kinds{ActionKind::build, ActionKind::replace});
    CHECK_FALSE(tandem::sync_placement(web, "app/site/drafts/a.html").has_value());

    const tandem::Step restarted = single_step(plan_ok(spec, observed, changed({"app/conf/main.conf"})));
    REQUIRE(kinds(restarted) == Kinds{ActionKind::sync, ActionKind::replace});
    CHECK(restarted.actions[0].paths == Paths{"app/conf/main.conf"});
    CHECK(tandem::sync_placement(web, "app/conf/main.conf")->target == "/etc/web/main.conf");
    // A plain sync file saved with it rides along in the same sync, before the replace.
    const tandem::Step both = single_step(plan_ok(spec, observed, changed({"app/site/a.css", "app/conf/main.conf"})));
    REQUIRE(kinds(both) == Kinds{ActionKind::sync, ActionKind::replace});
    CHECK(both.actions[0].paths == Paths{"app/site/a.css", "app/conf/main.conf"});
}

TEST_CASE("changes: a process service's sync+restart restarts it, with no sync action (it reads the tree)") {
    ServiceSpec api = service("api");
    WatchRule conf{{"conf/**"}, WatchAction::sync, "", {}, {}};
    conf.restart_after_sync = true;
    api.watch = {conf};
    const Spec spec = spec_of({api});
    CHECK(kinds(single_step(plan_ok(spec, running(spec, {"api"}), changed({"conf/a.ini"})))) ==
          Kinds{ActionKind::replace});
}
