// The deploy under way, recorded before it starts and cleared when it ends; the start-up count
// of the ones an engine did not live to end.
#include "release/interrupted_deploys.hpp"

namespace tandem::release {

namespace {

void save(ReleaseLoop::State& s) {
    if (auto saved = s.save_history(); !saved)
        s.emit(RuntimeEventKind::failure, "cannot record the deploy under way: " + saved.error().to_string());
}

// The commit's record for history and audit, as far as the mirror still knows it.
CommitInfo described(ReleaseLoop::State& s, const std::string& commit) {
    if (auto info = s.mirror->commit(commit)) return *info;
    CommitInfo info;
    info.id = commit;
    return info;
}

void audit(ReleaseLoop::State& s, const CommitInfo& commit, ChangeEvent event, ChangeOutcome outcome,
           const std::string& message) {
    AuditEntry entry;
    entry.event = event;
    entry.actor = actor::engine_start;
    entry.commit = commit.id;
    entry.author = commit.author;
    entry.subject = commit.subject;
    entry.previous_commit = s.history.deployed;
    entry.outcome = outcome;
    entry.message = message;
    if (auto recorded = s.record(s.current_policy(), std::move(entry)); !recorded)
        s.emit(RuntimeEventKind::failure, "cannot audit: " + recorded.error().to_string());
}

}  // namespace

DeployingMark::DeployingMark(ReleaseLoop::State& s, const std::string& commit) : s_(s), commit_(commit) {
    outermost_ = s_.deploys_under_way++ == 0;
    if (!outermost_) return;
    {
        std::lock_guard lock(s_.mutex);
        s_.history.deploying = commit_;
    }
    save(s_);  // durably, before anything of the deploy happens
}

DeployingMark::~DeployingMark() {
    --s_.deploys_under_way;
    if (!outermost_) return;
    {
        std::lock_guard lock(s_.mutex);
        s_.history.deploying.clear();
        if (s_.history.interrupted_commit == commit_) {  // its deploy ended: the engine survives it
            s_.history.interrupted_commit.clear();
            s_.history.interrupted_deploys = 0;
        }
    }
    save(s_);
}

void count_interrupted_deploy(ReleaseLoop::State& s) {
    std::string commit;
    int count = 0;
    {
        std::lock_guard lock(s.mutex);
        commit = std::exchange(s.history.deploying, std::string{});
        if (commit.empty()) return;
        count = s.history.interrupted_commit == commit ? s.history.interrupted_deploys + 1 : 1;
        s.history.interrupted_commit = commit;
        s.history.interrupted_deploys = count;
    }
    const CommitInfo info = described(s, commit);
    const std::string in_a_row = std::to_string(count) + " of " + std::to_string(kMaxInterruptedDeploys) + " in a row";
    if (count < kMaxInterruptedDeploys) {
        const std::string message = "the engine stopped while deploying commit " + commit + " (" + in_a_row +
                                    " before the commit is refused); its deploy is tried again";
        save(s);
        s.emit(RuntimeEventKind::failure, message);
        audit(s, info, ChangeEvent::interrupted, ChangeOutcome::failed, message);
        return;
    }
    const std::string message = "commit " + commit + ": the engine stopped while deploying it " + std::to_string(count) +
                                " times in a row (the limit is " + std::to_string(kMaxInterruptedDeploys) +
                                "): a crash loop; refusing the commit (fix it in a new commit)";
    const int keep = s.current_policy().history.keep;  // before the lock: it takes the mutex
    {
        std::lock_guard lock(s.mutex);
        s.history.interrupted_commit.clear();
        s.history.interrupted_deploys = 0;
        s.history.reject(ReleaseRecord{info.id, info.author, info.subject, std::chrono::system_clock::now(),
                                       actor::engine_start, ChangeEvent::rejected, {}},
                         "refused: " + message, keep);
        s.last_error = message;
    }
    save(s);
    s.emit(RuntimeEventKind::failure, "refused " + message);
    audit(s, info, ChangeEvent::refused, ChangeOutcome::refused, message);
}

}  // namespace tandem::release
