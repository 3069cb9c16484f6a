// The planner: a pure function from (spec, observed state, policy set, changed paths) to a
// Plan of typed actions in dependency waves. It does no I/O.
#pragma once

#include <tandem/error.hpp>
#include <tandem/observed.hpp>
#include <tandem/policy.hpp>
#include <tandem/spec.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tandem {

enum class ActionKind {
    build,    // run the service's build (command), producing its artifact
    start,    // start a service that is not running
    replace,  // replace running replicas with new ones (recreate or rolling)
    stop,     // stop a service that is no longer desired
    sync,     // files changed that the running service reads itself: nothing to restart
    run,      // run a watch rule's command, then restart
    reset,    // stop the service, empty its state directories, run its reset command (if any)
};

const char* to_string(ActionKind kind);

struct RolloutParams {
    RolloutStrategy strategy = RolloutStrategy::recreate;
    int max_surge = 0;
    int max_unavailable = 0;
    bool health_gate = false;
    Duration gate_timeout{0};
    Duration drain_timeout{0};
};

struct Action {
    ActionKind kind = ActionKind::start;
    std::string service;
    std::string reason;   // why, in a phrase a user reads: "src/main.c changed", "new service"
    std::string command;  // build / run / reset: the shell command
    std::vector<std::string> paths;  // the changed paths that caused it, if any
    std::vector<std::string> state;  // reset: the state directories it empties (`state:`)
    int replicas = 0;     // start / replace: how many
    std::optional<RolloutParams> rollout;  // replace
    // Knob-derived obligations the executor must honour for this action.
    bool cancellable = false;      // build: a newer change may cancel it
    bool immutable = false;        // build: store the output content-addressed, read-only
    bool sandboxed = false;        // build: run in a sandbox that may write only its build directory
    bool verify_digest = false;    // start / replace: check the artifact digest before starting
    CrashAction on_crash = CrashAction::restart;  // start / replace
    bool auto_revert = false;      // replace: revert if errors exceed the window's limit
    // start / replace: the stored artifact ("sha256:...") the replicas run, when it was built
    // ahead of the plan (PlanRequest::artifacts); empty otherwise.
    std::string artifact_digest;
    // start / replace: the environment, ${services.X.port} expanded; secret-looking values
    // redacted when the policy is strict.
    std::vector<std::pair<std::string, std::string>> env;
    // start / replace of a container service: what its containers run (image or image build,
    // command, volumes), and whether a tag is resolved to its digest once (containers.pin_digests).
    std::optional<ContainerSpec> container;
    bool pin_digest = false;
};

// Actions of one service, in order (build, then replace, ...).
struct Step {
    std::string service;
    std::vector<Action> actions;
};

// Steps that may run at the same time; a wave starts when the one before it is done.
struct Wave {
    std::vector<Step> steps;
};

// A service the plan does not start yet: a dependency runs but does not serve (it crashed, or
// failed its health gate and is being tried again). A later plan starts it once it does.
struct Waiting {
    std::string service;
    std::string dependency;
    std::string reason;  // "'cache' is crashed: replica 3 was not healthy within 30s"
};

struct Plan {
    std::string policy;     // the policy set's name
    std::string revision;   // the revision planned for, if known
    bool bootstrap = false; // everything comes up from nothing
    bool incident = false;  // the bootstrap needed an explicit flag: recorded as an incident
    std::vector<Wave> waves;
    std::vector<Waiting> waiting;  // new services held back until their dependencies serve
    int max_parallel = 0;   // steps of one wave run at most this many at once (0: all)
    std::optional<std::string> audit_path;  // where the executor records the update, if audited
    int history_keep = 0;   // revisions kept for rollback

    bool empty() const { return waves.empty(); }
    std::size_t action_count() const;
};

struct PlanRequest {
    std::vector<std::string> changed_paths;  // relative to the project root
    bool bootstrap = false;                  // the explicit "bring everything up" flag
    std::vector<std::string> reset;          // services whose state to reset
    std::vector<std::string> trigger;        // services to rebuild and restart regardless
    std::vector<std::string> only;           // restrict to these and their dependencies
    std::string revision;
    // Artifacts built ahead of the plan, by service ("sha256:..."), as shipper does for a
    // commit. A service listed here gets no build action; it is started or replaced when it
    // is new, its spec or watched files changed, or it runs another artifact.
    std::map<std::string, std::string> artifacts;
    // Whether the replicas that run read the changed files where they are (a project on disk).
    // False when each revision's files are in a directory of their own (a release of a commit):
    // a change a watch rule would sync restarts the service from the new directory instead.
    bool files_in_place = true;
};

Result<Plan> make_plan(const Spec& spec, const Observed& observed, const PolicySet& policy,
                       const PlanRequest& request);

// A rollback to an earlier deployed revision is planned like any update, but is refused
// when the policy keeps no history.
Status check_rollback_allowed(const PolicySet& policy);

// A table for people and JSON for programs.
std::string format_table(const Plan& plan);
std::string to_json(const Plan& plan, int indent = 2);

}  // namespace tandem
