// The knob table: every policy knob's name, type, meaning, seed-table row, reader and printer.
#include "policy/knob_table.hpp"

#include "support/path_inside.hpp"

#include <tandem/duration.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <utility>

namespace tandem {

namespace {

// The rows of the design's seed table (DESIGN.md) that knobs come from.
namespace seed {
constexpr std::string_view segfaults = "Add segfaults to see what breaks";
constexpr std::string_view from_scratch = "Bring up all services from scratch";
constexpr std::string_view reset_database = "Reset the database";
constexpr std::string_view faster_updates = "Sacrifice correctness for faster updates";
constexpr std::string_view security = "Security is not a concern";
constexpr std::string_view rbac_stars = "Stars in all your RBAC rules";
constexpr std::string_view audit = "Audit records of every change";
constexpr std::string_view one_update = "Only one update at a time";
constexpr std::string_view rolling = "Rolling restarts";
constexpr std::string_view rollbacks = "Rollbacks";
constexpr std::string_view auto_revert = "Automatic reverts if too many errors";
constexpr std::string_view immutable = "Immutable containers for security";
}  // namespace seed

// Each enum's spellings, in the order of its enumerators: to_string, the YAML reader and
// KnobInfo::choices all come from these. (Function-local statics: safe from any static
// initializer, and the lists' arrays live as long as the program.)
using Names = std::initializer_list<std::string_view>;
Names crash_action_names() { static const Names names{"restart", "revert"}; return names; }
Names bootstrap_rule_names() { static const Names names{"allow", "require_flag"}; return names; }
Names permission_names() { static const Names names{"allow", "deny"}; return names; }
Names rollout_strategy_names() { static const Names names{"recreate", "rolling"}; return names; }

template <class Enum>
const char* name_of(std::initializer_list<std::string_view> names, Enum value) {
    const auto index = static_cast<std::size_t>(value);
    return index < names.size() ? names.begin()[index].data() : "?";
}

// A row from a field accessor (a generic lambda returning a reference into a PolicySet), a
// reader of the YAML value and a printer of the field's value.
template <class Field, class Read, class Print>
KnobRow make_row(KnobInfo info, Field field, Read read_value, Print print_value) {
    auto read = [field, read_value](const YAML::Node& node, const yaml::Where& where) -> Result<KnobSetter> {
        auto value = read_value(node, where);
        if (!value) return value.error();
        return KnobSetter([field, v = std::move(*value)](PolicySet& set) { field(set) = v; });
    };
    auto print = [field, print_value](const PolicySet& set) { return std::string(print_value(field(set))); };
    return KnobRow{std::move(info), std::move(read), std::move(print)};
}

template <class Field>
KnobRow bool_knob(std::string_view name, Field field, std::string_view summary, std::string_view seed_row) {
    return make_row(KnobInfo{name, KnobType::boolean, {}, summary, seed_row}, field, &yaml::read_bool,
                    [](bool v) { return v ? "true" : "false"; });
}

template <class Field>
KnobRow int_knob(std::string_view name, Field field, int min, int max, std::string_view summary,
                 std::string_view seed_row) {
    auto read = [min, max](const YAML::Node& node, const yaml::Where& where) {
        return yaml::read_int(node, where, min, max);
    };
    return make_row(KnobInfo{name, KnobType::integer, {}, summary, seed_row}, field, read,
                    [](int v) { return std::to_string(v); });
}

// An integer where `unbounded` stands for 0 (no limit) and a number must be 1..max.
template <class Field>
KnobRow limit_knob(std::string_view name, Field field, int max, std::string_view summary,
                   std::string_view seed_row) {
    auto read = [max](const YAML::Node& node, const yaml::Where& where) -> Result<int> {
        if (node.IsScalar() && node.Scalar() == "unbounded") return 0;
        auto v = yaml::read_int(node, where, 1, max);
        if (v) return v;
        return yaml::invalid(node, where, fmt::format("expected unbounded or a whole number from 1 to {}", max));
    };
    return make_row(KnobInfo{name, KnobType::integer, {}, summary, seed_row}, field, read,
                    [](int v) { return v == 0 ? std::string("unbounded") : std::to_string(v); });
}

template <class Field>
KnobRow duration_knob(std::string_view name, Field field, std::string_view summary, std::string_view seed_row) {
    return make_row(KnobInfo{name, KnobType::duration, {}, summary, seed_row}, field, &yaml::read_duration,
                    &format_duration);
}

// A non-empty path relative to the state directory that stays inside it.
Result<std::string> read_relative_path(const YAML::Node& node, const yaml::Where& where) {
    auto text = yaml::read_string(node, where);
    if (!text) return text;
    const std::string& path = *text;
    if (path.empty()) return yaml::invalid(node, where, "expected a path, found an empty string");
    const InsideRoot inside = inside_root(path);
    if (inside.refusal == InsideRoot::Refusal::absolute)
        return yaml::invalid(node, where, fmt::format("'{}' must be relative to the state directory", path));
    if (!inside) return yaml::invalid(node, where, fmt::format("'{}' must not leave the state directory (..)", path));
    if (inside.path.empty())
        return yaml::invalid(node, where, fmt::format("'{}' is the state directory itself, not a file in it", path));
    return inside.path;  // the normal form: "logs/../audit.jsonl" is "audit.jsonl"
}

template <class Field>
KnobRow path_knob(std::string_view name, Field field, std::string_view summary, std::string_view seed_row) {
    return make_row(KnobInfo{name, KnobType::string, {}, summary, seed_row}, field, &read_relative_path,
                    [](const std::string& v) { return v; });
}

template <class Enum, class Field>
KnobRow choice_knob(std::string_view name, Field field, std::initializer_list<std::string_view> names,
                    std::string_view summary, std::string_view seed_row) {
    auto read = [names](const YAML::Node& node, const yaml::Where& where) -> Result<Enum> {
        auto chosen = yaml::read_choice(node, where, names);
        if (!chosen) return chosen.error();
        const auto at = std::find(names.begin(), names.end(), *chosen);
        return static_cast<Enum>(at - names.begin());
    };
    return make_row(KnobInfo{name, KnobType::choice, std::vector<std::string_view>(names), summary, seed_row},
                    field, read, [names](Enum v) { return name_of(names, v); });
}

std::vector<KnobRow> make_knob_rows() {
    // clang-format off
    return {
        choice_knob<CrashAction>("crash.on_crash", [](auto& s) -> auto& { return s.crash.on_crash; },
            crash_action_names(),
            "what a crashing service gets: restart (with backoff, logs shown) or revert (roll the release back)",
            seed::segfaults),
        duration_knob("crash.backoff_initial", [](auto& s) -> auto& { return s.crash.backoff_initial; },
            "delay before the first restart of a crashed service", seed::segfaults),
        duration_knob("crash.backoff_max", [](auto& s) -> auto& { return s.crash.backoff_max; },
            "longest delay between restarts; the delay doubles up to this", seed::segfaults),
        duration_knob("crash.stable_after", [](auto& s) -> auto& { return s.crash.stable_after; },
            "running this long resets the restart backoff", seed::segfaults),
        choice_knob<BootstrapRule>("bootstrap.from_scratch",
            [](auto& s) -> auto& { return s.bootstrap.from_scratch; }, bootstrap_rule_names(),
            "bringing every service up from nothing: allow, or require_flag (--bootstrap, recorded as an incident)",
            seed::from_scratch),
        choice_knob<Permission>("database.reset", [](auto& s) -> auto& { return s.database.reset; },
            permission_names(),
            "resetting a service (emptying its state directories, running its reset command): allow, or deny "
            "with a clear error and nothing touched",
            seed::reset_database),
        bool_knob("updates.live", [](auto& s) -> auto& { return s.updates.live; },
            "watch rules may sync files or restart without a rebuild; false rebuilds on every change",
            seed::faster_updates),
        bool_knob("updates.cancel_in_flight", [](auto& s) -> auto& { return s.updates.cancel_in_flight; },
            "a newer change cancels a build still running for an older one", seed::faster_updates),
        limit_knob("updates.max_parallel", [](auto& s) -> auto& { return s.updates.max_parallel; }, 1000,
            "services updated at once: unbounded, or 1 to 1000", seed::one_update),
        bool_knob("updates.coalesce", [](auto& s) -> auto& { return s.updates.coalesce; },
            "changes arriving during an update collapse into one next update", seed::one_update),
        bool_knob("security.strict", [](auto& s) -> auto& { return s.security.strict; },
            "API auth, webhook signatures, secret-looking env values redacted, read-only artifacts", seed::security),
        bool_knob("security.deny_wildcards", [](auto& s) -> auto& { return s.security.deny_wildcards; },
            "access roles that grant \"*\" are refused", seed::rbac_stars),
        bool_knob("audit.enabled", [](auto& s) -> auto& { return s.audit.enabled; },
            "every change is recorded in a hash-chained audit log", seed::audit),
        path_knob("audit.path", [](auto& s) -> auto& { return s.audit.path; },
            "the audit log's path, relative to the state directory", seed::audit),
        int_knob("audit.checkpoint_every", [](auto& s) -> auto& { return s.audit.checkpoint_every; }, 1, 1000000,
            "records between signed checkpoints of the audit log's head (1 to 1000000; with a checkpoint key)",
            seed::audit),
        choice_knob<RolloutStrategy>("rollout.strategy", [](auto& s) -> auto& { return s.rollout.strategy; },
            rollout_strategy_names(), "how running replicas are replaced: recreate (stop all, start all) or rolling",
            seed::rolling),
        int_knob("rollout.max_surge", [](auto& s) -> auto& { return s.rollout.max_surge; }, 0, 100,
            "extra replicas allowed during a rolling update (0 to 100)", seed::rolling),
        int_knob("rollout.max_unavailable", [](auto& s) -> auto& { return s.rollout.max_unavailable; }, 0, 100,
            "replicas allowed below the desired count during a rolling update (0 to 100)", seed::rolling),
        bool_knob("rollout.health_gate", [](auto& s) -> auto& { return s.rollout.health_gate; },
            "a new replica takes traffic only once its health probe passes", seed::rolling),
        duration_knob("rollout.gate_timeout", [](auto& s) -> auto& { return s.rollout.gate_timeout; },
            "how long a new replica may take to pass its health gate before the rollout fails", seed::rolling),
        duration_knob("rollout.drain_timeout", [](auto& s) -> auto& { return s.rollout.drain_timeout; },
            "how long an old replica may finish in-flight requests before it is stopped", seed::rolling),
        int_knob("history.keep", [](auto& s) -> auto& { return s.history.keep; }, 0, 1000,
            "deployed revisions kept for rollback (0 to 1000); 0 refuses rollback", seed::rollbacks),
        bool_knob("auto_revert.enabled", [](auto& s) -> auto& { return s.auto_revert.enabled; },
            "a release that throws too many errors soon after its rollout is reverted", seed::auto_revert),
        int_knob("auto_revert.max_errors", [](auto& s) -> auto& { return s.auto_revert.max_errors; }, 1, 10000,
            "crashes or failed probes within the window that trigger a revert (1 to 10000)", seed::auto_revert),
        duration_knob("auto_revert.window", [](auto& s) -> auto& { return s.auto_revert.window; },
            "how long after a rollout errors count toward max_errors", seed::auto_revert),
        bool_knob("artifacts.immutable", [](auto& s) -> auto& { return s.artifacts.immutable; },
            "build outputs stored content-addressed and read-only, digest checked before start", seed::immutable),
        bool_knob("builds.sandbox", [](auto& s) -> auto& { return s.builds.sandbox; },
            "builds run in a bubblewrap sandbox: read-only filesystem but their build directory and a private "
            "/tmp, no network unless build.network allows it", seed::security),
        choice_knob<Permission>("containers.bind_mounts", [](auto& s) -> auto& { return s.containers.bind_mounts; },
            permission_names(),
            "container services may mount host directories (allow), or a spec with a bind mount is refused (deny)",
            seed::immutable),
        bool_knob("containers.pin_digests", [](auto& s) -> auto& { return s.containers.pin_digests; },
            "an image tag is resolved to its digest once; the digest is what runs and what is recorded",
            seed::immutable),
    };
    // clang-format on
}

}  // namespace

const char* to_string(CrashAction v) { return name_of(crash_action_names(), v); }
const char* to_string(BootstrapRule v) { return name_of(bootstrap_rule_names(), v); }
const char* to_string(Permission v) { return name_of(permission_names(), v); }
const char* to_string(RolloutStrategy v) { return name_of(rollout_strategy_names(), v); }

std::string_view KnobRow::section() const { return info.name.substr(0, info.name.find('.')); }

std::string_view KnobRow::key() const { return info.name.substr(info.name.find('.') + 1); }

const std::vector<KnobRow>& knob_rows() {
    static const std::vector<KnobRow> rows = make_knob_rows();
    return rows;
}

const KnobRow* find_knob_row(std::string_view name) {
    for (const auto& row : knob_rows())
        if (row.info.name == name) return &row;
    return nullptr;
}

const std::vector<std::string_view>& knob_sections() {
    static const std::vector<std::string_view> sections = [] {
        std::vector<std::string_view> out;
        for (const auto& row : knob_rows())
            if (std::find(out.begin(), out.end(), row.section()) == out.end()) out.push_back(row.section());
        return out;
    }();
    return sections;
}

const std::vector<KnobInfo>& knobs() {
    static const std::vector<KnobInfo> infos = [] {
        std::vector<KnobInfo> out;
        for (const auto& row : knob_rows()) out.push_back(row.info);
        return out;
    }();
    return infos;
}

std::optional<std::string> knob_value(const PolicySet& set, std::string_view knob) {
    const KnobRow* row = find_knob_row(knob);
    if (!row) return std::nullopt;
    return row->print(set);
}

}  // namespace tandem
