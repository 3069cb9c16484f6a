// Project policy sets: added from YAML, resolved along `from:`, and every mistake located.
#include <doctest/doctest.h>

#include <tandem/policy.hpp>

using namespace tandem;

namespace {

// The error of adding `text` as set `name` from policies.yaml; fails the test if it succeeds.
Error add_error(std::string_view text, const std::string& name = "staging") {
    PolicyCatalog catalog;
    auto added = catalog.add_yaml(text, "policies.yaml", name);
    REQUIRE_FALSE(added.ok());
    return added.error();
}

// The error of resolving `name` after adding every {name, text} pair; lineage() fails the
// same way unless the sets' chain is sound and only their values clash.
Error resolve_error(const std::vector<std::pair<std::string, std::string>>& sets, const std::string& name,
                    bool chain_sound = false) {
    PolicyCatalog catalog;
    for (const auto& [set_name, text] : sets) {
        auto added = catalog.add_yaml(text, set_name + ".yaml", set_name);
        REQUIRE_MESSAGE(added.ok(), added.error().to_string());
    }
    auto resolved = catalog.resolve(name);
    REQUIRE_FALSE(resolved.ok());
    auto lineage = catalog.lineage(name);
    REQUIRE(lineage.ok() == chain_sound);
    if (!chain_sound) CHECK(lineage.error().to_string() == resolved.error().to_string());
    return resolved.error();
}

}  // namespace

TEST_CASE("a set from harness overrides one knob and inherits the rest") {
    PolicyCatalog catalog;
    auto added = catalog.add_yaml("from: harness\ndescription: Audited, but the database may be reset.\n"
                                  "database:\n  reset: allow\n",
                                  "policies/staging.yaml", "staging");
    REQUIRE_MESSAGE(added.ok(), added.error().to_string());
    auto staging = catalog.resolve("staging");
    REQUIRE_MESSAGE(staging.ok(), staging.error().to_string());
    auto harness = builtin_policy("harness");
    REQUIRE(harness.ok());
    CHECK(staging->name == "staging");
    CHECK(staging->from == "harness");
    CHECK(staging->description == "Audited, but the database may be reset.");
    CHECK(staging->location.to_string() == "policies/staging.yaml:1:1");
    CHECK(staging->database.reset == Permission::allow);
    CHECK(harness->database.reset == Permission::deny);
    for (const auto& knob : knobs()) {
        CAPTURE(knob.name);
        if (knob.name == "database.reset") continue;
        CHECK(knob_value(*staging, knob.name) == knob_value(*harness, knob.name));
    }
    CHECK(catalog.names() == std::vector<std::string>{"wip", "harness", "staging"});
}

TEST_CASE("two levels: qa from staging from harness") {
    PolicyCatalog catalog;
    // qa is added first: `from:` may name a set added later.
    REQUIRE(catalog.add_yaml("from: staging\nupdates:\n  max_parallel: 4\n", "qa.yaml", "qa").ok());
    REQUIRE(catalog.add_yaml("from: harness\ndatabase:\n  reset: allow\nupdates:\n  max_parallel: 2\n",
                             "staging.yaml", "staging")
                .ok());
    auto lineage = catalog.lineage("qa");
    REQUIRE(lineage.ok());
    CHECK(*lineage == std::vector<std::string>{"qa", "staging", "harness"});
    CHECK(*catalog.lineage("harness") == std::vector<std::string>{"harness"});
    auto qa = catalog.resolve("qa");
    REQUIRE_MESSAGE(qa.ok(), qa.error().to_string());
    CHECK(qa->from == "staging");
    CHECK(qa->updates.max_parallel == 4);               // its own
    CHECK(qa->database.reset == Permission::allow);     // from staging
    CHECK(qa->rollout.strategy == RolloutStrategy::rolling);  // from harness
    CHECK(qa->description == "Release harness - Git is the record; one audited, health-gated update at a time.");
    CHECK(catalog.names() == std::vector<std::string>{"wip", "harness", "qa", "staging"});
}

TEST_CASE("a set may start from wip and tighten it") {
    PolicyCatalog catalog;
    REQUIRE(catalog.add_yaml("from: wip\nname: careful\nsecurity:\n  strict: true\naudit:\n  enabled: true\n"
                             "  path: logs/audit.jsonl\n",
                             "careful.yaml", "careful")
                .ok());
    auto careful = catalog.resolve("careful");
    REQUIRE(careful.ok());
    CHECK(careful->security.strict);
    CHECK(careful->audit.enabled);
    CHECK(careful->audit.path == "logs/audit.jsonl");
    CHECK(careful->updates.live);
    // A ".." that only folds the name before it stays inside the state directory.
    REQUIRE(catalog.add_yaml("from: careful\naudit:\n  path: logs/../audit.jsonl\n", "folded.yaml", "folded").ok());
    CHECK(catalog.resolve("folded")->audit.path == "audit.jsonl");
    CHECK(careful->rollout.strategy == RolloutStrategy::recreate);
}

TEST_CASE("an unknown knob is located and suggested") {
    const Error e = add_error("from: harness\ncrash:\n  backoff_max: 2m\n  on_crahs: restart\n");
    CHECK(e.code == ErrorCode::unknown_key);
    CHECK(e.to_string() == "policies.yaml:4:3: unknown knob 'crash.on_crahs' (did you mean 'crash.on_crash'?)");
}

TEST_CASE("a knob in the wrong section points to its own") {
    const Error e = add_error("from: harness\nupdates:\n  strict: true\n");
    CHECK(e.to_string() == "policies.yaml:3:3: unknown knob 'updates.strict' (did you mean 'security.strict'?)");
    const Error far = add_error("from: harness\nrollout:\n  speed: fast\n");
    CHECK(far.to_string() == "policies.yaml:3:3: unknown knob 'rollout.speed'");
}

TEST_CASE("an unknown section is located and suggested") {
    const Error e = add_error("from: harness\n\nrolout:\n  strategy: rolling\n");
    CHECK(e.code == ErrorCode::unknown_key);
    CHECK(e.to_string() == "policies.yaml:3:1: unknown section 'rolout' (did you mean 'rollout'?)");
    const Error far = add_error("from: harness\nnetwork: {}\n");
    CHECK(far.to_string() == "policies.yaml:2:1: unknown section 'network'");
}

TEST_CASE("wrong values are refused for each kind of knob") {
    struct Case {
        std::string text;
        std::string error;
    };
    const std::vector<Case> cases{
        {"updates:\n  live: maybe\n", "policies.yaml:3:9: 'updates.live': expected true or false"},
        {"history:\n  keep: lots\n", "policies.yaml:3:9: 'history.keep': expected a whole number"},
        {"history:\n  keep: 1001\n", "policies.yaml:3:9: 'history.keep': 1001 is out of range (0 to 1000)"},
        {"rollout:\n  max_surge: 101\n", "policies.yaml:3:14: 'rollout.max_surge': 101 is out of range (0 to 100)"},
        {"rollout:\n  max_unavailable: -1\n",
         "policies.yaml:3:20: 'rollout.max_unavailable': -1 is out of range (0 to 100)"},
        {"auto_revert:\n  max_errors: 0\n",
         "policies.yaml:3:15: 'auto_revert.max_errors': 0 is out of range (1 to 10000)"},
        {"updates:\n  max_parallel: 0\n",
         "policies.yaml:3:17: 'updates.max_parallel': expected unbounded or a whole number from 1 to 1000"},
        {"updates:\n  max_parallel: many\n",
         "policies.yaml:3:17: 'updates.max_parallel': expected unbounded or a whole number from 1 to 1000"},
        {"crash:\n  backoff_max: 10\n",
         "policies.yaml:3:16: 'crash.backoff_max': expected a duration such as 500ms, 2s or 1m, found '10'"},
        {"rollout:\n  strategy: rollin\n",
         "policies.yaml:3:13: 'rollout.strategy': 'rollin' is not one of recreate, rolling (did you mean 'rolling'?)"},
        {"crash:\n  on_crash: [restart]\n", "policies.yaml:3:13: 'crash.on_crash': expected a string, found a list"},
        {"audit:\n  path: /var/log/audit.jsonl\n",
         "policies.yaml:3:9: 'audit.path': '/var/log/audit.jsonl' must be relative to the state directory"},
        {"audit:\n  path: logs/../../audit.jsonl\n",
         "policies.yaml:3:9: 'audit.path': 'logs/../../audit.jsonl' must not leave the state directory (..)"},
        {"audit:\n  path: ''\n", "policies.yaml:3:9: 'audit.path': expected a path, found an empty string"},
        {"audit:\n  path: logs/..\n",
         "policies.yaml:3:9: 'audit.path': 'logs/..' is the state directory itself, not a file in it"},
        {"security: strict\n", "policies.yaml:2:11: 'security': expected a mapping, found a scalar"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        const Error e = add_error("from: harness\n" + c.text);
        CHECK(e.code == ErrorCode::invalid_value);
        CHECK(e.to_string() == c.error);
    }
}

TEST_CASE("max_parallel takes unbounded or a number") {
    PolicyCatalog catalog;
    REQUIRE(catalog.add_yaml("from: harness\nupdates:\n  max_parallel: unbounded\n", "a.yaml", "a").ok());
    REQUIRE(catalog.add_yaml("from: wip\nupdates:\n  max_parallel: 1000\n", "b.yaml", "b").ok());
    CHECK(catalog.resolve("a")->updates.max_parallel == 0);
    CHECK(catalog.resolve("b")->updates.max_parallel == 1000);
}

TEST_CASE("a knob set twice is refused") {
    const Error e = add_error("from: harness\ncrash:\n  on_crash: restart\ncrash:\n  on_crash: revert\n");
    CHECK(e.code == ErrorCode::duplicate);
    CHECK(e.to_string() == "policies.yaml:5:3: knob 'crash.on_crash' is set twice");
}

TEST_CASE("an unknown from is located at its value and suggested") {
    const Error e = resolve_error({{"staging", "description: x\nfrom: harnes\n"}}, "staging");
    CHECK(e.code == ErrorCode::unknown_policy);
    CHECK(e.to_string() ==
          "staging.yaml:2:7: policy set 'staging' starts from an unknown policy set 'harnes' (did you mean 'harness'?)");
    const Error far = resolve_error({{"staging", "from: production\n"}}, "staging");
    CHECK(far.to_string() == "staging.yaml:1:7: policy set 'staging' starts from an unknown policy set 'production' "
                             "(the sets are: wip, harness, staging)");
}

TEST_CASE("resolving an unknown name suggests a known one") {
    PolicyCatalog catalog;
    REQUIRE(catalog.add_yaml("from: harness\n", "staging.yaml", "staging").ok());
    auto set = catalog.resolve("stagign");
    REQUIRE_FALSE(set.ok());
    CHECK(set.error().code == ErrorCode::unknown_policy);
    CHECK(set.error().to_string() == "unknown policy set 'stagign' (did you mean 'staging'?)");
}

TEST_CASE("a from cycle is named") {
    const Error e = resolve_error({{"a", "from: b\n"}, {"b", "from: c\n"}, {"c", "from: a\n"}}, "a");
    CHECK(e.code == ErrorCode::dependency_cycle);
    CHECK(e.to_string() == "c.yaml:1:7: policy sets start from each other in a cycle: a -> b -> c -> a");
    const Error self = resolve_error({{"loop", "from: loop\n"}}, "loop");
    CHECK(self.to_string() == "loop.yaml:1:7: policy sets start from each other in a cycle: loop -> loop");
}

TEST_CASE("a project set needs a from") {
    const Error e = add_error("description: no base\naudit:\n  enabled: true\n");
    CHECK(e.code == ErrorCode::missing_field);
    CHECK(e.to_string() == "policies.yaml:1:1: policy set 'staging' has no 'from:'; start it from a built-in set "
                           "(wip, harness) or another of the project's sets");
}

TEST_CASE("names are unique: no reuse of a built-in, no set defined twice") {
    const Error builtin = add_error("from: wip\n", "harness");
    CHECK(builtin.code == ErrorCode::duplicate);
    CHECK(builtin.to_string() ==
          "policies.yaml:1:1: policy set 'harness' is built in; give yours another name and start it `from: harness`");

    PolicyCatalog catalog;
    REQUIRE(catalog.add_yaml("from: harness\n", "one.yaml", "staging").ok());
    auto again = catalog.add_yaml("\nfrom: wip\n", "two.yaml", "staging");
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().code == ErrorCode::duplicate);
    CHECK(again.error().to_string() == "two.yaml:2:1: policy set 'staging' is defined twice (first at one.yaml:1:1)");
}

TEST_CASE("a name inside the set must agree with the name it is given") {
    const Error e = add_error("name: stage\nfrom: harness\n");
    CHECK(e.code == ErrorCode::invalid_value);
    CHECK(e.to_string() == "policies.yaml:1:7: 'name': 'stage' disagrees with the set's name 'staging'");
    PolicyCatalog catalog;
    CHECK(catalog.add_yaml("name: staging\nfrom: harness\n", "policies.yaml", "staging").ok());
}

TEST_CASE("set names are plain words") {
    const Error e = add_error("from: harness\n", "my staging");
    CHECK(e.code == ErrorCode::invalid_value);
    CHECK(e.message == "policy set name 'my staging' may hold only letters, digits, '-' and '_'");
}

TEST_CASE("a set inside a larger document keeps that document's lines") {
    const std::string tandem_yaml = "project: shop\n"
                                    "policy: staging\n"
                                    "services:\n"
                                    "  api:\n"
                                    "    run: ./api\n"
                                    "policies:\n"
                                    "  staging:\n"
                                    "    from: harness\n"
                                    "    database:\n"
                                    "      reset: allow\n"
                                    "  broken:\n"
                                    "    from: staging\n"
                                    "    rollout:\n"
                                    "      max_surge: lots\n"
                                    "      stratgy: rolling\n";
    PolicyCatalog catalog;
    auto added = catalog.add_yaml(tandem_yaml, "tandem.yaml", "staging", "policies.staging");
    REQUIRE_MESSAGE(added.ok(), added.error().to_string());
    auto staging = catalog.resolve("staging");
    REQUIRE(staging.ok());
    CHECK(staging->location.to_string() == "tandem.yaml:8:5");
    CHECK(staging->database.reset == Permission::allow);

    auto broken = catalog.add_yaml(tandem_yaml, "tandem.yaml", "broken", "policies.broken");
    REQUIRE_FALSE(broken.ok());
    CHECK(broken.error().to_string() == "tandem.yaml:14:18: 'rollout.max_surge': expected a whole number");

    auto missing = catalog.add_yaml(tandem_yaml, "tandem.yaml", "qa", "policies.qa");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code == ErrorCode::missing_field);
    CHECK(missing.error().to_string() == "tandem.yaml: no 'policies.qa' in the document");
}

TEST_CASE("unknown knobs in a larger document are located in it") {
    const std::string tandem_yaml = "policies:\n  staging:\n    from: harness\n    rollout:\n      stratgy: rolling\n";
    PolicyCatalog catalog;
    auto added = catalog.add_yaml(tandem_yaml, "tandem.yaml", "staging", "policies.staging");
    REQUIRE_FALSE(added.ok());
    CHECK(added.error().to_string() ==
          "tandem.yaml:5:7: unknown knob 'rollout.stratgy' (did you mean 'rollout.strategy'?)");
}

TEST_CASE("knob combinations that cannot work are refused when resolved") {
    const Error rolling = resolve_error({{"stuck", "from: harness\nrollout:\n  max_surge: 0\n"}}, "stuck", true);
    CHECK(rolling.code == ErrorCode::invalid_value);
    CHECK(rolling.to_string() == "stuck.yaml:3:14: policy set 'stuck': a rolling update with rollout.max_surge and "
                                 "rollout.max_unavailable both 0 can never replace a replica");
    const Error backoff = resolve_error({{"jumpy", "from: wip\ncrash:\n  backoff_initial: 1m\n"}}, "jumpy", true);
    CHECK(backoff.to_string() ==
          "jumpy.yaml:3:20: policy set 'jumpy': crash.backoff_initial is longer than crash.backoff_max");
}

TEST_CASE("YAML syntax errors are located") {
    const Error e = add_error("from: harness\ncrash: [\n");
    CHECK(e.code == ErrorCode::syntax);
    CHECK(e.location.file == "policies.yaml");
    CHECK(e.location.line >= 2);
}
