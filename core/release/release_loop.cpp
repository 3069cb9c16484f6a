// The harness loop's worker: fetch on an interval or on request, deploy the newest commit
// when it is new (so commits that arrive during a rollout coalesce; with `updates.coalesce:
// false`, each commit on the way to it in turn), watch the window after a
// rollout, and carry out rollbacks, resets and restarts in the same queue, one at a time.
#include "release/interrupted_deploys.hpp"
#include "release/release_sources.hpp"
#include "release/release_state.hpp"
#include "release/stalled_fetches.hpp"

#include <tandem/git_tree.hpp>

namespace tandem {

namespace {

using Clock = std::chrono::steady_clock;
using release::DeployTarget;

constexpr Duration kWindowCheck{200};

ReleaseOutcome nothing_to_do(const std::string& commit, ChangeOutcome outcome, const std::string& message) {
    return ReleaseOutcome{ChangeEvent::none, commit, outcome, message};
}

}  // namespace

void ReleaseLoop::State::emit(RuntimeEventKind kind, const std::string& text) const {
    if (on_event)
        on_event(RuntimeEvent{kind, {}, text, 0, kind == RuntimeEventKind::failure, std::chrono::system_clock::now()});
}

PolicySet ReleaseLoop::State::current_policy() const {
    {
        std::lock_guard lock(mutex);
        if (deployed_project) return deployed_project->policy;
    }
    auto named = PolicyCatalog().resolve(options.project.policy.value_or(options.project.default_policy));
    return named ? *named : PolicySet{};
}

Status ReleaseLoop::State::save_history() {
    std::lock_guard lock(mutex);
    return history.save(workspace.history_file());
}

namespace {

// The most commits `updates.coalesce: false` deploys one by one on the way to a new head; a
// deployed commit further back than this (or off the head's first-parent line) is followed by
// a deploy of the head alone.
constexpr std::size_t kMaxCommitsInOrder = 100;

// What to deploy to reach `head` from `from` (the deployed commit, or the head a rollback
// pinned): the head alone when the policy coalesces, else each commit of the branch's
// first-parent line after `from`, oldest first.
std::vector<CommitInfo> commits_to_deploy(ReleaseLoop::State& s, const CommitInfo& head, const std::string& from) {
    if (from.empty() || s.current_policy().updates.coalesce) return {head};
    auto line = s.mirror->first_parent_line(from, head.id, kMaxCommitsInOrder);
    if (!line || line->empty()) return {head};
    return std::move(*line);
}

// Deploys the commits on the way to `head` in turn, skipping the ones rejected before (the head
// is not one: follow() holds a rejected head back); stops at the first that is not deployed.
ReleaseOutcome deploy_up_to(ReleaseLoop::State& s, const CommitInfo& head, const std::string& from,
                            const std::string& actor) {
    ReleaseOutcome outcome;
    for (const CommitInfo& commit : commits_to_deploy(s, head, from)) {
        {
            std::lock_guard lock(s.mutex);
            if (commit.id != head.id && s.history.rejected.count(commit.id)) continue;
        }
        outcome = release::deploy(s, DeployTarget{commit, ChangeEvent::deploy, actor, s.options.bootstrap,
                                                  std::nullopt, {}});
        if (outcome.outcome != ChangeOutcome::succeeded) break;
    }
    return outcome;
}

// Who asked the loop to follow its ref: the fetch timer, or a request (sync) that names its actor.
enum class FollowedFor { poll, request };

// Fetches, resolves the followed ref, and deploys its commit if it is new and not held back. A
// head refused for want of --bootstrap is not retried by polls, only by requests.
Result<ReleaseOutcome> follow(ReleaseLoop::State& s, const std::string& actor, FollowedFor why) {
    if (auto held = release::skip_stalled_commit(s)) return *held;
    auto fetched = s.mirror->fetch(s.options.fetch);
    if (!fetched && fetched.error().code == ErrorCode::timed_out) fetched = release::count_stalled_fetch(s, fetched.error());
    else if (fetched) s.stalled_fetches = 0;
    auto head = fetched ? s.mirror->resolve(s.options.ref) : Result<CommitInfo>(fetched.error());
    if (!head) {
        {
            std::lock_guard lock(s.mutex);
            s.last_error = head.error().to_string();
        }
        s.emit(RuntimeEventKind::failure, head.error().to_string());
        return head.error();
    }
    std::string deployed, rejected, pinned_head;
    bool pinned = false, held_for_flag = false;
    {
        std::lock_guard lock(s.mutex);
        s.head = head->id;
        s.last_fetch = std::chrono::system_clock::now();
        deployed = s.history.deployed;
        if (auto it = s.history.rejected.find(head->id); it != s.history.rejected.end()) rejected = it->second;
        pinned = s.history.pinned;
        pinned_head = s.history.pinned_head;
        held_for_flag = why == FollowedFor::poll && s.bootstrap_refused == head->id;
    }
    if (head->id == deployed)
        return nothing_to_do(head->id, ChangeOutcome::up_to_date, "commit " + head->short_id() + " is deployed");
    if (!rejected.empty())
        return nothing_to_do(head->id, ChangeOutcome::held_back, "commit " + head->short_id() +
                                                                     " is not deployed again (" + rejected +
                                                                     "); waiting for a newer commit");
    if (pinned && head->id == pinned_head)
        return nothing_to_do(head->id, ChangeOutcome::pinned, "a rollback pinned " + deployed.substr(0, 12) +
                                                                  "; waiting for a commit newer than " + head->short_id());
    if (held_for_flag)
        return nothing_to_do(head->id, ChangeOutcome::held_back, "bringing everything up needs --bootstrap");
    return deploy_up_to(s, *head, pinned ? pinned_head : deployed, actor);
}

Result<ReleaseOutcome> roll_back(ReleaseLoop::State& s, const std::string& revision, const std::string& actor) {
    const PolicySet policy = s.current_policy();
    if (auto allowed = check_rollback_allowed(policy); !allowed) {
        AuditEntry entry;
        entry.event = ChangeEvent::policy_refusal;
        entry.actor = actor;
        entry.outcome = ChangeOutcome::refused;
        entry.message = "rollback " + revision + ": " + allowed.error().to_string();
        (void)s.record(policy, std::move(entry));
        return allowed.error();
    }
    const std::string wanted = revision.empty() ? s.history.previous : revision;
    if (wanted.empty())
        return make_error(ErrorCode::unknown_reference, "no earlier release is kept to roll back to (see `shipper history`)");
    const ReleaseRecord* record = s.history.find(wanted);
    if (!record)
        return make_error(ErrorCode::unknown_reference, "'" + wanted + "' is not one of the " +
                                                            std::to_string(s.history.releases.size()) +
                                                            " kept releases (see `shipper history`)");
    if (record->commit == s.history.deployed)
        return nothing_to_do(record->commit, ChangeOutcome::up_to_date,
                             "commit " + record->commit.substr(0, 12) + " is deployed");
    auto commit = s.mirror->commit(record->commit);
    if (!commit) return commit.error();
    return release::deploy(s, DeployTarget{*commit, ChangeEvent::rollback, actor, false, *record, {}});
}

// A reset or a restart of one service within the deployed release, planned and audited.
Result<ReleaseOutcome> service_request(ReleaseLoop::State& s, const ReleaseJob& job) {
    const bool reset = job.kind == ReleaseJob::Kind::reset;
    if (!s.deployed_project) return make_error(ErrorCode::usage, "nothing is deployed yet");
    const Project& project = *s.deployed_project;
    const ReleaseRecord* current = s.history.find(s.history.deployed);
    PlanRequest request;
    (reset ? request.reset : request.trigger).push_back(job.argument);
    request.revision = s.history.deployed;
    if (current && project.policy.artifacts.immutable) request.artifacts = current->artifacts;
    AuditEntry entry;
    entry.event = reset ? ChangeEvent::reset : ChangeEvent::restart;
    entry.actor = job.actor;
    entry.commit = s.history.deployed;
    auto plan = make_plan(project.spec, s.runtime->observe(), project.policy, request);
    if (!plan) {
        entry.event = plan.error().code == ErrorCode::policy_denied ? ChangeEvent::policy_refusal : entry.event;
        entry.outcome = ChangeOutcome::refused;
        entry.message = (reset ? "reset " : "restart ") + job.argument + ": " + plan.error().to_string();
        (void)s.record(project.policy, std::move(entry));
        return plan.error();
    }
    ApplyOptions where;
    where.root = (s.workspace.release_dir(s.history.deployed) / s.options.project_dir).lexically_normal();
    where.state_root = s.workspace.state_root();
    const auto snapshot_root = (s.workspace.snapshots() / s.history.deployed / s.options.project_dir).lexically_normal();
    where.verify_artifact = release::start_check(*s.store, project.spec, snapshot_root, where.root);
    const auto started = Clock::now();
    auto applied = s.runtime->apply(project.spec, project.policy, *plan, where);
    entry.rollout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    std::string digest;
    if (current)
        if (auto it = current->artifacts.find(job.argument); it != current->artifacts.end()) digest = it->second;
    entry.services.push_back(AuditServiceChange{job.argument, digest, digest, reset ? "reset" : "replace", {}, {}});
    entry.outcome = applied ? ChangeOutcome::succeeded : ChangeOutcome::failed;
    entry.message = applied ? std::string{} : applied.error().to_string();
    if (auto recorded = s.record(project.policy, std::move(entry)); !recorded) return recorded.error();
    if (!applied) return applied.error();
    return ReleaseOutcome{reset ? ChangeEvent::reset : ChangeEvent::restart, s.history.deployed, ChangeOutcome::succeeded,
                          job.argument};
}

// After an engine restart with nothing running, the deployed release comes back from its
// stored artifacts: a recovery of a known state, not a bootstrap from nothing.
void recover(ReleaseLoop::State& s) {
    if (s.history.deployed.empty() || !s.runtime->observe().empty()) return;
    if (auto it = s.history.rejected.find(s.history.deployed); it != s.history.rejected.end()) {
        s.emit(RuntimeEventKind::failure, "the deployed release " + s.history.deployed.substr(0, 12) +
                                              " is not restored: " + it->second);
        return;
    }
    const ReleaseRecord* record = s.history.find(s.history.deployed);
    auto commit = s.mirror->commit(s.history.deployed);
    if (!record || !commit) {
        s.emit(RuntimeEventKind::failure, "cannot restore the deployed release " + s.history.deployed.substr(0, 12) +
                                              ": it is not kept; the next commit deploys from scratch");
        return;
    }
    release::deploy(s, DeployTarget{*commit, ChangeEvent::recover, release::actor::engine_start, true, *record, {}});
}

Result<ReleaseOutcome> carry_out(ReleaseLoop::State& s, const ReleaseJob& job) {
    switch (job.kind) {
        case ReleaseJob::Kind::sync: return follow(s, job.actor, FollowedFor::request);
        case ReleaseJob::Kind::rollback: return roll_back(s, job.argument, job.actor);
        case ReleaseJob::Kind::reset:
        case ReleaseJob::Kind::trigger: return service_request(s, job);
    }
    return make_error(ErrorCode::usage, "unknown request");
}

}  // namespace

void ReleaseLoop::State::run() {
    {
        std::lock_guard lock(mutex);
        busy = true;  // status says so while the deployed release is being restored
    }
    release::count_interrupted_deploy(*this);  // before anything is deployed again
    recover(*this);
    bool first = true;  // the first fetch happens at once, with or without polling
    auto next_poll = Clock::now();
    for (;;) {
        std::shared_ptr<ReleaseJob> job;
        {
            std::unique_lock lock(mutex);
            auto deadline = next_poll;
            if (watch.is_open()) deadline = std::min(deadline, Clock::now() + kWindowCheck);
            wake.wait_until(lock, deadline, [this] { return stopping || !jobs.empty(); });
            if (stopping) break;
            if (!jobs.empty()) {
                job = jobs.front();
                jobs.pop_front();
            }
            busy = true;
        }
        if (job) {
            job->done.set_value(carry_out(*this, *job));
        } else if (Clock::now() >= next_poll) {
            if (first || options.poll.count() > 0) (void)follow(*this, release::actor::poll, FollowedFor::poll);
            first = false;
            next_poll = Clock::now() + (options.poll.count() > 0 ? options.poll : Duration(std::chrono::hours(1)));
        }
        const std::string watched = watch.commit();
        if (auto why = watch.check(runtime->status(), Clock::now())) release::revert(*this, watched, *why);
        std::lock_guard lock(mutex);
        busy = false;
        if (jobs.empty()) idle.notify_all();
    }
    std::lock_guard lock(mutex);
    for (auto& job : jobs) job->done.set_value(make_error(ErrorCode::cancelled, "the engine is stopping"));
    jobs.clear();
    busy = false;
    idle.notify_all();
}

}  // namespace tandem
