// One deploy of a commit (or a redeploy of a kept release): check the commit, materialize it,
// load its project, plan, build what needs building into the store, roll out from the
// commit's release directory, then record it (audit first, then history).
#include "release/release_state.hpp"

#include "plan/actions.hpp"
#include "release/interrupted_deploys.hpp"
#include "release/release_sources.hpp"

#include <tandem/plan.hpp>

#include <algorithm>

namespace tandem::release {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t ms_since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

struct Prepared {
    std::filesystem::path snapshot;
    Project project;
};

Result<Prepared> prepare(ReleaseLoop::State& s, const DeployTarget& target) {
    if (s.options.allowed_signers && !target.kept) {
        if (auto signed_ok = s.mirror->verify_signature(target.commit.id, *s.options.allowed_signers); !signed_ok)
            return signed_ok.error();
    }
    auto snapshot = s.mirror->materialize(target.commit.id, s.workspace.snapshots());
    if (!snapshot) return snapshot.error();
    const auto root = (*snapshot / s.options.project_dir).lexically_normal();
    auto project = load_project(root, s.options.project);
    if (!project) {
        Error error = project.error();
        error.message = "commit " + target.commit.short_id() + ": " + error.message;
        return error;
    }
    return Prepared{*snapshot, std::move(*project)};
}

// Marks the target's commit as rejected (`why`), with its record for history; the caller holds the mutex.
void reject(ReleaseLoop::State& s, const DeployTarget& target, const std::string& why, const PolicySet& policy) {
    s.history.reject(ReleaseRecord{target.commit.id, target.commit.author, target.commit.subject,
                                   std::chrono::system_clock::now(), target.actor, ChangeEvent::rejected, {}},
                     why, policy.history.keep);
}

AuditEntry base_entry(const DeployTarget& target, const std::string& previous) {
    AuditEntry entry;
    entry.event = target.event;
    entry.actor = target.actor;
    entry.commit = target.commit.id;
    entry.author = target.commit.author;
    entry.subject = target.commit.subject;
    entry.previous_commit = previous;
    return entry;
}

// A refusal changes nothing but the record: audited, and (for the commit's own faults) the
// commit is not tried again until a newer one arrives.
ReleaseOutcome refuse(ReleaseLoop::State& s, const DeployTarget& target, const Error& error, const PolicySet& policy) {
    AuditEntry entry = base_entry(target, s.history.deployed);
    entry.event = error.code == ErrorCode::policy_denied ? ChangeEvent::policy_refusal : ChangeEvent::refused;
    entry.outcome = ChangeOutcome::refused;
    entry.message = error.to_string();
    const bool needs_flag = error.code == ErrorCode::bootstrap_required;
    // The audit record first: whoever sees the commit rejected finds its record already there.
    const std::string why = entry.message;
    auto recorded = s.record(policy, std::move(entry));
    {
        std::lock_guard lock(s.mutex);
        s.last_error = why;
        if (needs_flag) s.bootstrap_refused = target.commit.id;
        else if (!target.kept) reject(s, target, "refused: " + error.to_string(), policy);
    }
    s.emit(RuntimeEventKind::failure, "refused commit " + target.commit.short_id() + ": " + error.to_string());
    if (!needs_flag) (void)s.save_history();
    std::string message = error.to_string();
    if (!recorded) message += " (and the audit record failed: " + recorded.error().to_string() + ")";
    return ReleaseOutcome{ChangeEvent::refused, target.commit.id, ChangeOutcome::refused, message};
}

// Whether `plan` has an action of one of `kinds` for `service`.
bool plans(const Plan& plan, const std::string& service, std::initializer_list<ActionKind> kinds) {
    for (const auto& wave : plan.waves)
        for (const auto& step : wave.steps)
            for (const auto& action : step.actions)
                if (action.service == service && std::find(kinds.begin(), kinds.end(), action.kind) != kinds.end())
                    return true;
    return false;
}

struct Artifacts {
    std::map<std::string, std::string> digests;   // service -> artifact digest
    std::map<std::string, BuiltArtifact> builds;  // the services the builder was asked for
};

// The artifact of every service with a build: the running one when the plan builds nothing
// for it, otherwise the builder's (reused when a build with the same key stored one).
Status add_built(Artifacts& artifacts, Result<std::vector<BuiltArtifact>> built) {
    if (!built) return built.error();
    for (BuiltArtifact& artifact : *built) {
        artifacts.digests[artifact.service] = artifact.artifact.digest;
        artifacts.builds[artifact.service] = std::move(artifact);
    }
    return Ok{};
}

// The artifact of every service with a build (and, with an image builder, of every container
// service: its image ID): the running one when the plan builds nothing for it, otherwise the
// builder's (reused when a build with the same key stored one).
Result<Artifacts> build_artifacts(ReleaseLoop::State& s, const DeployTarget& target, const Prepared& prepared,
                                  const Plan& first_plan) {
    const Spec& spec = prepared.project.spec;
    const ReleaseRecord* current = s.history.find(s.history.deployed);
    Artifacts artifacts;
    std::vector<std::string> trees, images;
    for (const ServiceSpec& service : spec.services) {
        const bool image = service.container && s.images;
        if (!service.build && !image) continue;
        // An image is resolved anew when the service starts again (its `image:` may name another).
        if (current && !plans(first_plan, service.name, {ActionKind::build}) &&
            !(image && plans(first_plan, service.name, {ActionKind::start, ActionKind::replace}))) {
            auto it = current->artifacts.find(service.name);
            if (it != current->artifacts.end() && (image || s.store->contains(it->second))) {
                artifacts.digests[service.name] = it->second;
                continue;
            }
        }
        (image ? images : trees).push_back(service.name);
    }
    const BuildSource source{prepared.snapshot, s.options.project_dir, s.workspace.state_root(), target.commit.id,
                             "commit " + target.commit.short_id()};
    if (!trees.empty())
        if (auto added = add_built(artifacts, s.builder->build(spec, prepared.project.policy, source, trees)); !added)
            return added.error();
    if (!images.empty())
        if (auto added = add_built(artifacts, s.images->build(spec, prepared.project.policy, source, images)); !added)
            return added.error();
    return artifacts;
}

std::vector<AuditServiceChange> changes_of(const Plan& plan, const Observed& observed, const Artifacts& artifacts) {
    std::vector<AuditServiceChange> changes;
    for (const auto& wave : plan.waves)
        for (const auto& step : wave.steps)
            for (const auto& action : step.actions) {
                if (action.kind != ActionKind::start && action.kind != ActionKind::replace &&
                    action.kind != ActionKind::stop)
                    continue;
                AuditServiceChange change{action.service, {}, {}, to_string(action.kind), {}, {}};
                if (auto it = observed.services.find(action.service); it != observed.services.end())
                    change.old_digest = it->second.artifact_digest;
                if (auto it = artifacts.digests.find(action.service);
                    it != artifacts.digests.end() && action.kind != ActionKind::stop)
                    change.new_digest = it->second;
                if (auto it = artifacts.builds.find(action.service);
                    it != artifacts.builds.end() && action.kind != ActionKind::stop) {
                    change.build = to_string(it->second.outcome);
                    change.build_key = it->second.key.digest;
                }
                changes.push_back(std::move(change));
            }
    return changes;
}

// The first kept release other than `deployed` that is not rejected: where a revert goes.
std::string last_good(const ReleaseHistory& history, const std::string& deployed) {
    for (const auto& r : history.releases)
        if (r.commit != deployed && !history.rejected.count(r.commit)) return r.commit;
    return {};
}

// Every commit whose files are still needed: kept releases and the ones services run from.
void collect_garbage(ReleaseLoop::State& s) {
    std::set<std::string> commits, digests;
    for (const auto& r : s.history.releases) {
        commits.insert(r.commit);
        for (const auto& [service, digest] : r.artifacts) digests.insert(digest);
    }
    for (const auto& [service, commit] : s.history.running_from) commits.insert(commit);
    for (const auto& status : s.runtime->status())
        if (!status.artifact_digest.empty()) digests.insert(status.artifact_digest);
    s.workspace.retain_only(commits);
    (void)s.store->retain_only(digests);
}

struct Rollout {
    Plan plan;
    Artifacts artifacts;
    Observed observed;
    std::int64_t build_ms = -1;
};

Result<Rollout> plan_rollout(ReleaseLoop::State& s, const DeployTarget& target, const Prepared& prepared) {
    const Project& project = prepared.project;
    Rollout rollout;
    rollout.observed = s.runtime->observe();
    const std::string from = rollout.observed.empty() ? std::string{} : s.history.deployed;
    auto changed = s.mirror->changed_paths(from, target.commit.id, s.options.project_dir);
    if (!changed) return changed.error();
    PlanRequest request;
    request.changed_paths = std::move(*changed);
    request.bootstrap = target.bootstrap;
    request.files_in_place = false;  // each commit runs from a release directory of its own
    request.revision = target.commit.id;
    auto first = make_plan(project.spec, rollout.observed, project.policy, request);
    if (!first) return first.error();
    if (!project.policy.artifacts.immutable) {
        rollout.plan = std::move(*first);
        return rollout;
    }
    if (target.kept) {
        rollout.artifacts.digests = target.kept->artifacts;
        for (const auto& [service, digest] : rollout.artifacts.digests)
            if (const ServiceSpec* spec = project.spec.find(service); spec && spec->build && !s.store->contains(digest))
                return make_error(ErrorCode::io, "the artifact " + digest + " of '" + service + "' at commit " +
                                                     target.commit.short_id() + " is no longer in the store");
    } else {
        const auto started = Clock::now();
        auto built = build_artifacts(s, target, prepared, *first);
        if (!built) return built.error();
        rollout.artifacts = std::move(*built);
        rollout.build_ms = ms_since(started);
    }
    request.artifacts = rollout.artifacts.digests;
    auto plan = make_plan(project.spec, rollout.observed, project.policy, request);
    if (!plan) return plan.error();
    rollout.plan = std::move(*plan);
    return rollout;
}

Result<std::filesystem::path> prepare_release_dir(ReleaseLoop::State& s, const DeployTarget& target,
                                                  const Prepared& prepared, const Rollout& rollout) {
    auto dir = s.workspace.ensure_release_dir(target.commit.id, prepared.snapshot);
    if (!dir) return dir.error();
    const auto root = (*dir / s.options.project_dir).lexically_normal();
    for (const auto& [service, digest] : rollout.artifacts.digests) {
        const ServiceSpec* spec = prepared.project.spec.find(service);
        if (!spec || !spec->build) continue;
        if (auto linked = s.store->link_outputs(digest, root, spec->build->outputs); !linked) return linked.error();
    }
    return root;
}

void remember_success(ReleaseLoop::State& s, const DeployTarget& target, Prepared& prepared, const Rollout& rollout) {
    std::lock_guard lock(s.mutex);
    ReleaseRecord record{target.commit.id, target.commit.author, target.commit.subject,
                         std::chrono::system_clock::now(), target.actor, target.event, rollout.artifacts.digests};
    s.history.add(std::move(record), prepared.project.policy.history.keep);
    s.history.deployed = target.commit.id;
    s.history.previous = last_good(s.history, target.commit.id);
    // A rollback pins; a recovery after a restart keeps the pin it finds; anything else ends it.
    if (target.event == ChangeEvent::rollback) {
        s.history.pinned = true;
        s.history.pinned_head = s.head;
    } else if (target.event != ChangeEvent::recover) {
        s.history.pinned = false;
        s.history.pinned_head.clear();
    }
    for (const auto& wave : rollout.plan.waves)
        for (const auto& step : wave.steps)
            for (const auto& action : step.actions) {
                if (action.kind == ActionKind::stop) s.history.running_from.erase(action.service);
                if (action.kind == ActionKind::start || action.kind == ActionKind::replace)
                    s.history.running_from[action.service] = target.commit.id;
            }
    s.deployed_project = std::move(prepared.project);
    s.last_error.clear();
}

// Planning or building failed: nothing running was touched. A refusal by policy or of the
// commit is recorded as such; a failed build holds the commit back until a newer one.
ReleaseOutcome not_rolled_out(ReleaseLoop::State& s, const DeployTarget& target, const PolicySet& policy,
                              const Error& error, Clock::time_point started) {
    if (error.code == ErrorCode::policy_denied || error.code == ErrorCode::bootstrap_required ||
        error.code == ErrorCode::source)
        return refuse(s, target, error, policy);
    AuditEntry entry = base_entry(target, s.history.deployed);
    entry.outcome = ChangeOutcome::failed;
    entry.message = "build failed: " + error.to_string();
    entry.total_ms = ms_since(started);
    auto recorded = s.record(policy, entry);  // before the commit shows as rejected
    {
        std::lock_guard lock(s.mutex);
        s.last_error = entry.message;
        if (!target.kept) reject(s, target, entry.message, policy);
    }
    (void)s.save_history();
    s.emit(RuntimeEventKind::failure, "commit " + target.commit.short_id() + ": " + entry.message);
    ReleaseOutcome outcome{target.event, target.commit.id, ChangeOutcome::failed, entry.message};
    if (!recorded) outcome.message += " (the audit record failed: " + recorded.error().to_string() + ")";
    return outcome;
}

}  // namespace

ReleaseOutcome deploy(ReleaseLoop::State& s, const DeployTarget& target) {
    const DeployingMark under_way(s, target.commit.id);
    const auto started = Clock::now();
    const PolicySet before = s.current_policy();
    auto prepared = prepare(s, target);
    if (!prepared) return refuse(s, target, prepared.error(), before);
    const PolicySet policy = prepared->project.policy;
    s.emit(RuntimeEventKind::state, std::string(to_string(target.event)) + " of commit " +
                                        target.commit.short_id() + " (" +
                                        target.commit.subject + ") by " + target.actor);
    for (const Error& warning : prepared->project.warnings)
        s.emit(RuntimeEventKind::state, "commit " + target.commit.short_id() + ": warning: " + warning.to_string());
    auto rollout = plan_rollout(s, target, *prepared);
    AuditEntry entry = base_entry(target, s.history.deployed);
    if (!rollout) return not_rolled_out(s, target, policy, rollout.error(), started);
    if (rollout->plan.bootstrap && target.event == ChangeEvent::deploy) entry.event = ChangeEvent::bootstrap;
    entry.incident = rollout->plan.incident;
    entry.build_ms = rollout->build_ms;
    auto root = prepare_release_dir(s, target, *prepared, *rollout);
    const auto snapshot_root = (prepared->snapshot / s.options.project_dir).lexically_normal();
    Status applied = root ? attach_source_digests(rollout->plan, prepared->project.spec, snapshot_root, *root,
                                                  rollout->artifacts.digests)
                          : Status(root.error());
    entry.services = changes_of(rollout->plan, rollout->observed, rollout->artifacts);
    const auto rollout_started = Clock::now();
    if (applied) {
        ApplyOptions where;
        where.root = *root;
        where.state_root = s.workspace.state_root();
        where.verify_artifact = start_check(*s.store, prepared->project.spec, snapshot_root, *root);
        applied = s.runtime->apply(prepared->project.spec, policy, rollout->plan, where);
    }
    // A release is deployed when everything in it runs: a service held back because a
    // dependency does not serve makes the rollout a failure (and, under auto_revert, a revert).
    if (applied && !rollout->plan.waiting.empty()) {
        const Waiting& held = rollout->plan.waiting.front();
        applied = make_error(ErrorCode::rollout_failed, "'" + held.service + "' did not start: " + held.reason);
    }
    note_replicas(entry.services, s.runtime->status());
    entry.rollout_ms = ms_since(rollout_started);
    entry.total_ms = ms_since(started);
    entry.outcome = applied ? ChangeOutcome::succeeded : ChangeOutcome::failed;
    entry.message = applied ? target.reason : "rollout failed: " + applied.error().to_string() +
                                                  (target.reason.empty() ? "" : " (" + target.reason + ")");
    // Audit first, then history: whoever sees the outcome finds its record already there.
    auto recorded = s.record(policy, entry);
    if (applied) remember_success(s, target, *prepared, *rollout);
    if (applied) {
        std::lock_guard lock(s.mutex);
        ++s.deploys;
    }
    else {
        std::lock_guard lock(s.mutex);
        s.last_error = entry.message;
        if (!target.kept) reject(s, target, entry.message, policy);
    }
    (void)s.save_history();
    if (applied) collect_garbage(s);
    s.emit(applied ? RuntimeEventKind::state : RuntimeEventKind::failure,
           std::string(to_string(target.event)) + " of " + target.commit.short_id() + " " + to_string(entry.outcome) +
               (applied ? "" : ": " + applied.error().to_string()));
    ReleaseOutcome outcome{entry.event, target.commit.id, entry.outcome, entry.message};
    if (!recorded) outcome.message += " (the audit record failed: " + recorded.error().to_string() + ")";
    if (applied && policy.auto_revert.enabled && (target.event == ChangeEvent::deploy))
        s.watch.open(target.commit.id, policy, s.runtime->status(), Clock::now());
    if (!applied && !target.kept && policy.auto_revert.enabled && !s.history.deployed.empty()) {
        auto reverted = revert(s, target.commit.id, "its rollout failed");
        outcome.outcome =
            reverted.outcome == ChangeOutcome::succeeded ? ChangeOutcome::reverted : ChangeOutcome::failed;
        outcome.message += "; " + reverted.message;
    }
    return outcome;
}

ReleaseOutcome revert(ReleaseLoop::State& s, const std::string& bad, const std::string& why) {
    s.watch.close();
    std::string good;
    {
        std::lock_guard lock(s.mutex);
        s.history.rejected[bad] = "reverted: " + why;
        // A release that rolled out goes back to the one before it; a rollout that failed
        // half-way goes back to what was deployed.
        good = bad == s.history.deployed ? last_good(s.history, bad) : s.history.deployed;
    }
    const ReleaseRecord* record = s.history.find(good);
    if (good.empty() || !record) {
        s.emit(RuntimeEventKind::failure, "cannot revert commit " + bad.substr(0, 12) + " (" + why +
                                              "): no earlier good release is kept");
        return ReleaseOutcome{ChangeEvent::revert, bad, ChangeOutcome::failed,
                              "no earlier good release is kept to revert to"};
    }
    auto commit = s.mirror->commit(record->commit);
    if (!commit)
        return ReleaseOutcome{ChangeEvent::revert, record->commit, ChangeOutcome::failed, commit.error().to_string()};
    DeployTarget target{*commit, ChangeEvent::revert, actor::auto_revert, true, *record,
                        "reverted " + bad.substr(0, 12) + ": " + why};
    return deploy(s, target);
}

}  // namespace tandem::release
