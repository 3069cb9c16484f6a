// The built-in sets: complete, true to the design's seed table, and printable both ways.
#include <doctest/doctest.h>

#include "policy/embedded_policies.hpp"
#include "policy/knob_table.hpp"
#include "policy/policy_document.hpp"

#include <tandem/policy.hpp>

#include <set>

using namespace tandem;

namespace {

PolicySet builtin(std::string_view name) {
    auto set = builtin_policy(name);
    REQUIRE_MESSAGE(set.ok(), set.error().to_string());
    return *set;
}

// The first built-in name that is not `name`: the set to write a knob's value into.
std::string other_builtin(const std::string& name) {
    for (const auto& candidate : builtin_policy_names())
        if (candidate != name) return candidate;
    return name;
}

}  // namespace

TEST_CASE("the built-in names come from the embedded files") {
    const std::vector<std::string> names = builtin_policy_names();
    CHECK(names == std::vector<std::string>{"wip", "harness"});
    const auto embedded_names = embedded::builtin_policy_text_names();
    REQUIRE(embedded_names.size() == names.size());
    for (std::size_t i = 0; i < names.size(); ++i) CHECK(embedded_names[i] == names[i]);
    CHECK(PolicyCatalog().names() == names);
}

TEST_CASE("every built-in set sets every knob in its own file") {
    REQUIRE(knobs().size() == 29);
    for (const auto& name : builtin_policy_names()) {
        CAPTURE(name);
        auto root = yaml::parse(embedded::builtin_policy_text(name), name + ".yaml");
        REQUIRE(root.ok());
        auto document = read_policy_document(*root, name + ".yaml", name);
        REQUIRE_MESSAGE(document.ok(), document.error().to_string());
        CHECK(document->assignments.size() == knobs().size());
        CHECK(check_defines_every_knob(*document).ok());
        CHECK_FALSE(document->from);
        CHECK_FALSE(document->description.empty());
    }
}

TEST_CASE("a set missing a knob is refused as a built-in") {
    auto root = yaml::parse("name: lean\ncrash:\n  on_crash: restart\n", "lean.yaml");
    REQUIRE(root.ok());
    auto document = read_policy_document(*root, "lean.yaml", "lean");
    REQUIRE(document.ok());
    auto complete = check_defines_every_knob(*document);
    REQUIRE_FALSE(complete.ok());
    CHECK(complete.error().code == ErrorCode::missing_field);
    CHECK(complete.error().to_string() ==
          "lean.yaml:1:1: policy set 'lean' does not set 'crash.backoff_initial' (a built-in set must set every knob)");
}

TEST_CASE("wip follows the WIP column of the seed table") {
    const PolicySet wip = builtin("wip");
    CHECK(wip.name == "wip");
    CHECK(wip.from.empty());
    CHECK(wip.location.file == "policies/wip.yaml");
    CHECK(wip.crash.on_crash == CrashAction::restart);
    CHECK(wip.crash.backoff_initial == Duration(100));
    CHECK(wip.crash.backoff_max == Duration(10000));
    CHECK(wip.bootstrap.from_scratch == BootstrapRule::allow);
    CHECK(wip.database.reset == Permission::allow);
    CHECK(wip.updates.live);
    CHECK(wip.updates.cancel_in_flight);
    CHECK(wip.updates.max_parallel == 0);
    CHECK_FALSE(wip.security.strict);
    CHECK_FALSE(wip.security.deny_wildcards);
    CHECK_FALSE(wip.audit.enabled);
    CHECK(wip.rollout.strategy == RolloutStrategy::recreate);
    CHECK_FALSE(wip.rollout.health_gate);
    CHECK(wip.rollout.drain_timeout == Duration(2000));
    CHECK(wip.history.keep == 0);
    CHECK_FALSE(wip.auto_revert.enabled);
    CHECK_FALSE(wip.artifacts.immutable);
    CHECK_FALSE(wip.builds.sandbox);
    CHECK(wip.containers.bind_mounts == Permission::allow);
    CHECK_FALSE(wip.containers.pin_digests);
}

TEST_CASE("harness follows the Harness column of the seed table") {
    const PolicySet harness = builtin("harness");
    CHECK(harness.name == "harness");
    CHECK(harness.crash.on_crash == CrashAction::revert);
    CHECK(harness.crash.stable_after == Duration(300000));
    CHECK(harness.bootstrap.from_scratch == BootstrapRule::require_flag);
    CHECK(harness.database.reset == Permission::deny);
    CHECK_FALSE(harness.updates.live);
    CHECK_FALSE(harness.updates.cancel_in_flight);
    CHECK(harness.updates.max_parallel == 1);
    CHECK(harness.updates.coalesce);
    CHECK(harness.security.strict);
    CHECK(harness.security.deny_wildcards);
    CHECK(harness.audit.enabled);
    CHECK(harness.audit.path == "audit.jsonl");
    CHECK(harness.rollout.strategy == RolloutStrategy::rolling);
    CHECK(harness.rollout.max_surge == 1);
    CHECK(harness.rollout.max_unavailable == 0);
    CHECK(harness.rollout.health_gate);
    CHECK(harness.rollout.gate_timeout == Duration(60000));
    CHECK(harness.history.keep == 10);
    CHECK(harness.auto_revert.enabled);
    CHECK(harness.auto_revert.max_errors == 5);
    CHECK(harness.auto_revert.window == Duration(120000));
    CHECK(harness.artifacts.immutable);
    CHECK(harness.builds.sandbox);
    CHECK(harness.containers.bind_mounts == Permission::deny);
    CHECK(harness.containers.pin_digests);
}

TEST_CASE("knob_value prints YAML spellings") {
    const PolicySet wip = builtin("wip");
    const PolicySet harness = builtin("harness");
    CHECK(knob_value(wip, "crash.on_crash") == "restart");
    CHECK(knob_value(harness, "crash.on_crash") == "revert");
    CHECK(knob_value(wip, "updates.max_parallel") == "unbounded");
    CHECK(knob_value(harness, "updates.max_parallel") == "1");
    CHECK(knob_value(wip, "crash.backoff_initial") == "100ms");
    CHECK(knob_value(harness, "auto_revert.window") == "2m");
    CHECK(knob_value(wip, "rollout.drain_timeout") == "2s");
    CHECK(knob_value(harness, "security.strict") == "true");
    CHECK(knob_value(harness, "bootstrap.from_scratch") == "require_flag");
    CHECK(knob_value(harness, "audit.path") == "audit.jsonl");
    CHECK_FALSE(knob_value(wip, "crash.on_crahs"));
    CHECK_FALSE(knob_value(wip, "crash"));
}

TEST_CASE("every knob of every built-in reads back what knob_value prints") {
    for (const auto& name : builtin_policy_names()) {
        const PolicySet source = builtin(name);
        const PolicySet target = builtin(other_builtin(name));
        for (const auto& row : knob_rows()) {
            CAPTURE(name);
            CAPTURE(row.info.name);
            const auto text = knob_value(source, row.info.name);
            REQUIRE(text);
            auto setter = row.read(YAML::Node(*text), yaml::Where{"t.yaml", std::string(row.info.name)});
            REQUIRE_MESSAGE(setter.ok(), setter.error().to_string());
            PolicySet written = target;
            (*setter)(written);
            CHECK(knob_value(written, row.info.name) == text);
        }
    }
}

TEST_CASE("the knob table is well formed") {
    std::set<std::string_view> names;
    std::set<std::string_view> seed_rows;
    for (const auto& knob : knobs()) {
        CAPTURE(knob.name);
        CHECK(names.insert(knob.name).second);
        CHECK(knob.name.find('.') != std::string_view::npos);
        CHECK_FALSE(knob.summary.empty());
        CHECK_FALSE(knob.seed_row.empty());
        CHECK((knob.type == KnobType::choice) == !knob.choices.empty());
        seed_rows.insert(knob.seed_row);
    }
    CHECK(seed_rows.size() == 12);  // every row of DESIGN.md's seed table has a knob
    CHECK(knob_sections() == std::vector<std::string_view>{"crash", "bootstrap", "database", "updates", "security",
                                                           "audit", "rollout", "history", "auto_revert", "artifacts", "builds",
                                                           "containers"});
    const KnobRow* strategy = find_knob_row("rollout.strategy");
    REQUIRE(strategy);
    CHECK(strategy->info.choices == std::vector<std::string_view>{"recreate", "rolling"});
}

TEST_CASE("enum values print as their YAML spellings") {
    CHECK(std::string(to_string(CrashAction::revert)) == "revert");
    CHECK(std::string(to_string(BootstrapRule::require_flag)) == "require_flag");
    CHECK(std::string(to_string(Permission::deny)) == "deny");
    CHECK(std::string(to_string(RolloutStrategy::rolling)) == "rolling");
}

TEST_CASE("an unknown built-in is named with a suggestion") {
    auto set = builtin_policy("harnes");
    REQUIRE_FALSE(set.ok());
    CHECK(set.error().code == ErrorCode::unknown_policy);
    CHECK(set.error().to_string() == "unknown policy set 'harnes' (did you mean 'harness'?)");
}
