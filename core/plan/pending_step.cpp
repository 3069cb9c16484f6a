// Merging the causes of one service's update and turning them into its ordered actions.
#include "plan/pending_step.hpp"

#include "plan/actions.hpp"

#include <algorithm>

namespace tandem {

namespace {

template <class T>
void add_unique(std::vector<T>& list, const T& item) {
    if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

void add_all_unique(std::vector<std::string>& list, const std::vector<std::string>& items) {
    for (const auto& item : items) add_unique(list, item);
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& part : parts) out += (out.empty() ? "" : ", ") + part;
    return out;
}

}  // namespace

void PendingStep::add_rebuild(const std::string& reason, const std::vector<std::string>& changed) {
    // A process's build command, or a container's image build, unless built ahead.
    const bool builds = service->build || (service->container && service->container->build);
    if (builds && artifact_digest.empty()) {
        build = true;
        add_unique(build_reasons, reason);
    }
    add_restart(reason, changed);
}

void PendingStep::add_moved(const std::vector<std::string>& changed) {
    add_rebuild(describe_changes(changed) + " (in the new revision's files)", changed);
}

void PendingStep::add_restart(const std::string& reason, const std::vector<std::string>& changed) {
    launch = true;
    add_unique(launch_reasons, reason);
    add_all_unique(paths, changed);
}

void PendingStep::add_run(const RunCommand& run) {
    for (RunCommand& existing : runs) {
        if (existing.command == run.command) {
            add_all_unique(existing.paths, run.paths);
            return;
        }
    }
    runs.push_back(run);
}

void PendingStep::add_sync(const std::vector<std::string>& changed) { add_all_unique(sync_paths, changed); }

void PendingStep::add_reset(const std::string& command) {
    reset_command = command;
    add_restart("reset requested");
}

void PendingStep::add_changes(const ChangeMatch& match, bool live, bool in_place) {
    if (match.empty()) return;
    const std::string reason = describe_changes(match.paths);
    // Without live updates every change is a full build and rollout.
    const WatchAction action = live ? match.strongest : WatchAction::rebuild;
    if (!in_place && action != WatchAction::rebuild) {
        for (const RunCommand& run : match.runs) add_run(run);
        return add_moved(match.paths);
    }
    switch (action) {
        case WatchAction::rebuild: add_rebuild(reason, match.paths); break;
        case WatchAction::run:
            for (const RunCommand& run : match.runs) add_run(run);
            add_restart(reason, match.paths);
            break;
        case WatchAction::restart:
            // Files of sync rules go in first, so a container started anew gets them too.
            add_sync(match.sync_paths);
            add_restart(reason, match.paths);
            break;
        case WatchAction::sync: add_sync(match.sync_paths); break;
    }
}

bool PendingStep::empty() const { return !build && !launch && !reset_command && runs.empty() && sync_paths.empty(); }

Step to_step(const PendingStep& pending, const Spec& spec, const PolicySet& policy) {
    const ServiceSpec& service = *pending.service;
    Step step;
    step.service = service.name;
    if (pending.build)
        step.actions.push_back(build_action(service, policy, join(pending.build_reasons), pending.paths));
    if (pending.reset_command) {
        step.actions.push_back(
            command_action(ActionKind::reset, service, *pending.reset_command, "reset requested", {}));
        step.actions.back().state = service.state;
    }
    for (const RunCommand& run : pending.runs)
        step.actions.push_back(
            command_action(ActionKind::run, service, run.command, describe_changes(run.paths), run.paths));
    // A container restarted from the same image gets only the files synced into it before (a
    // process reads the tree itself).
    if (pending.launch && !pending.build && pending.running && service.runs_container() && !pending.sync_paths.empty())
        step.actions.push_back(sync_action(service, pending.sync_paths));
    if (pending.launch) {
        const ActionKind kind = pending.running ? ActionKind::replace : ActionKind::start;
        Action launch = launch_action(kind, spec, service, policy, join(pending.launch_reasons), pending.paths);
        launch.artifact_digest = pending.artifact_digest;
        step.actions.push_back(std::move(launch));
    } else if (!pending.sync_paths.empty()) {
        step.actions.push_back(sync_action(service, pending.sync_paths));
    }
    return step;
}

}  // namespace tandem
