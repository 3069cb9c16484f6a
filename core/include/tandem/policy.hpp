// Policy sets: the rules (knobs) that make one engine behave as a dev loop or as a release
// harness. The engine reads knobs; it never asks which set is active.
#pragma once

#include <tandem/duration.hpp>
#include <tandem/error.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem {

enum class CrashAction { restart, revert };
enum class BootstrapRule { allow, require_flag };
enum class Permission { allow, deny };
enum class RolloutStrategy { recreate, rolling };

const char* to_string(CrashAction v);
const char* to_string(BootstrapRule v);
const char* to_string(Permission v);
const char* to_string(RolloutStrategy v);

struct PolicySet {
    std::string name;
    std::string from;         // the set it starts from; empty for a built-in set
    std::string description;
    SourceLocation location;  // where it was defined

    struct {
        CrashAction on_crash = CrashAction::restart;
        Duration backoff_initial{100};
        Duration backoff_max{10000};
        Duration stable_after{30000};  // running this long resets the backoff
    } crash;
    struct {
        BootstrapRule from_scratch = BootstrapRule::allow;
    } bootstrap;
    struct {
        Permission reset = Permission::allow;
    } database;
    struct {
        bool live = true;              // watch rules may sync/restart without a rebuild
        bool cancel_in_flight = true;  // a newer change cancels a running build
        int max_parallel = 0;          // services updated at once; 0 = unbounded
        bool coalesce = true;          // changes queued during an update collapse into one
    } updates;
    struct {
        bool strict = false;          // API auth, webhook signatures, secrets redacted, 0444 artifacts
        bool deny_wildcards = false;  // refuse access roles that grant "*"
    } security;
    struct {
        bool enabled = false;
        std::string path = "audit.jsonl";  // relative to the state directory
        int checkpoint_every = 10;         // records between signed checkpoints (when a key is configured)
    } audit;
    struct {
        RolloutStrategy strategy = RolloutStrategy::recreate;
        int max_surge = 1;        // extra replicas allowed during a rolling update
        int max_unavailable = 0;  // replicas allowed below `replicas` during a rolling update
        bool health_gate = true;  // a new replica takes traffic only once healthy
        Duration gate_timeout{30000};
        Duration drain_timeout{10000};
    } rollout;
    struct {
        int keep = 0;  // deployed revisions kept for rollback; 0 = none
    } history;
    struct {
        bool enabled = false;
        int max_errors = 5;    // crashes or failed probes ...
        Duration window{60000};  // ... within this long after a rollout trigger a revert
    } auto_revert;
    struct {
        bool immutable = false;  // content-addressed, read-only, digest checked before start
    } artifacts;
    struct {
        // Builds run under bubblewrap: the filesystem read-only but their build directory and a
        // private /tmp, no network unless the service's `build.network` allows it.
        bool sandbox = false;
    } builds;
    struct {
        // Container services may mount host directories (`volumes: [./src:/app]`); deny refuses
        // a spec that does, naming the service and the volume: containers see only their image
        // and named volumes.
        Permission bind_mounts = Permission::allow;
        // A tag is resolved to its digest once, and that digest is what runs and is recorded.
        bool pin_digests = false;
    } containers;
};

enum class KnobType { boolean, integer, duration, string, choice };

// One knob: its dotted name, type, what it means and the row of the design's seed table it
// comes from. The table drives the loader, `policies show` and docs/policies.md.
struct KnobInfo {
    std::string_view name;         // "crash.on_crash"
    KnobType type;
    std::vector<std::string_view> choices;  // for KnobType::choice
    std::string_view summary;      // one line
    std::string_view seed_row;     // "Add segfaults to see what breaks"
};

const std::vector<KnobInfo>& knobs();

// The value of one knob of `set`, as it would be written in YAML ("restart", "30s", "true").
std::optional<std::string> knob_value(const PolicySet& set, std::string_view knob);

// The built-in sets, compiled into the library from policies/*.yaml (one set per file).
std::vector<std::string> builtin_policy_names();
Result<PolicySet> builtin_policy(std::string_view name);

// Reads a project's file by its path relative to the project root (from disk or a commit).
using FileReader = std::function<Result<std::string>(const std::string& relative_path)>;

// The sets one project can use: the built-in ones plus those it defines. A project set starts
// `from:` another set (built-in or its own) and overrides knobs; unknown knobs are errors.
class PolicyCatalog {
public:
    PolicyCatalog();  // the built-in sets only

    // Parses a set written as YAML: a file of its own, or (with `key_path`, e.g.
    // "policies.staging") the mapping at that path inside a larger document such as
    // tandem.yaml, so that errors keep that document's lines. `name` is the set's name; a
    // `name:` key inside the set must agree with it. Knob names and values are checked here;
    // `from:` is checked by resolve(), since sets may name sets added after them.
    Status add_yaml(std::string_view yaml_text, const std::string& file_name, const std::string& name,
                    std::string_view key_path = {});

    // Resolves `name` with every `from:` applied, base first.
    Result<PolicySet> resolve(std::string_view name) const;
    // `name` and the sets it starts from, `name` first: {"qa", "staging", <built-in>}.
    Result<std::vector<std::string>> lineage(std::string_view name) const;
    std::vector<std::string> names() const;

private:
    struct Definition;
    std::map<std::string, std::shared_ptr<const Definition>, std::less<>> definitions_;
};

}  // namespace tandem
