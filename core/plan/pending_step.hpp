// What the planner has decided for one service, gathered from every cause (new, spec changed,
// triggered, reset, changed paths) before it becomes actions, so that causes merge: a service
// asked to build twice builds once and is started or replaced once.
#pragma once

#include "plan/changes.hpp"

#include <tandem/plan.hpp>

#include <optional>
#include <string>
#include <vector>

namespace tandem {

struct PendingStep {
    const ServiceSpec* service = nullptr;
    bool running = false;  // in the observed state: a launch replaces instead of starting
    // The artifact built ahead of the plan (PlanRequest::artifacts): a rebuild only relaunches.
    std::string artifact_digest;
    bool build = false;
    bool launch = false;
    std::optional<std::string> reset_command;  // a reset was requested: its command ("" for none, state only)
    std::vector<RunCommand> runs;
    std::vector<std::string> sync_paths;
    std::vector<std::string> paths;  // changed paths behind the build and the launch
    std::vector<std::string> build_reasons;
    std::vector<std::string> launch_reasons;

    // Build (when the service has a build and no artifact built ahead) and start or replace.
    void add_rebuild(const std::string& reason, const std::vector<std::string>& changed = {});
    // Start or replace, without a build.
    void add_restart(const std::string& reason, const std::vector<std::string>& changed = {});
    // The changed files are in the new revision's directory, not where the replicas run: they
    // restart there, and a build whose output is not stored (no artifact ahead) runs there first.
    void add_moved(const std::vector<std::string>& changed);
    void add_run(const RunCommand& run);
    void add_sync(const std::vector<std::string>& changed);
    void add_reset(const std::string& command);
    // What the changed paths ask for; `live` allows less than a rebuild, `in_place` a sync
    // (the replicas read the changed files where they are).
    void add_changes(const ChangeMatch& match, bool live, bool in_place);

    bool empty() const;
};

// The step's actions in the order they run: build, reset, run commands, then sync or the
// start/replace (a service being restarted needs no sync).
Step to_step(const PendingStep& pending, const Spec& spec, const PolicySet& policy);

}  // namespace tandem
