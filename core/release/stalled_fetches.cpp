// Counting the fetches that time out on one commit, and refusing that commit at the limit.
#include "release/stalled_fetches.hpp"

namespace tandem::release {

namespace {

void audit_refusal(ReleaseLoop::State& s, const std::string& commit, const std::string& message) {
    AuditEntry entry;
    entry.event = ChangeEvent::refused;
    entry.actor = actor::poll;
    entry.commit = commit;
    entry.previous_commit = s.history.deployed;
    entry.outcome = ChangeOutcome::refused;
    entry.message = message;
    if (auto recorded = s.record(s.current_policy(), std::move(entry)); !recorded)
        s.emit(RuntimeEventKind::failure, "cannot audit: " + recorded.error().to_string());
}

void refuse(ReleaseLoop::State& s, const std::string& commit, const std::string& message) {
    const int keep = s.current_policy().history.keep;  // before the lock: it takes the mutex
    {
        std::lock_guard lock(s.mutex);
        s.history.reject(ReleaseRecord{commit, {}, {}, std::chrono::system_clock::now(), actor::poll, ChangeEvent::rejected, {}},
                         "refused: " + message, keep);
        s.head = commit;
        s.last_error = message;
    }
    if (auto saved = s.save_history(); !saved)
        s.emit(RuntimeEventKind::failure, "cannot record the refused commit: " + saved.error().to_string());
    s.emit(RuntimeEventKind::failure, "refused " + message);
    audit_refusal(s, commit, message);
}

}  // namespace

std::optional<ReleaseOutcome> skip_stalled_commit(ReleaseLoop::State& s) {
    if (s.stalled_fetches < kMaxStalledFetches) return std::nullopt;
    auto remote = s.mirror->remote_commit(s.options.ref, s.options.fetch);
    if (!remote || *remote != s.stalled_commit) {  // origin moved on (or cannot say): fetch again
        s.stalled_commit.clear();
        s.stalled_fetches = 0;
        return std::nullopt;
    }
    return ReleaseOutcome{ChangeEvent::none, *remote, ChangeOutcome::held_back,
                          "commit " + remote->substr(0, 12) + " is not fetched again (its fetch timed out " +
                              std::to_string(kMaxStalledFetches) + " times); waiting for a newer commit"};
}

Error count_stalled_fetch(ReleaseLoop::State& s, const Error& timed_out) {
    auto remote = s.mirror->remote_commit(s.options.ref, s.options.fetch);
    if (!remote) return timed_out;  // the commit cannot be named: count nothing
    const std::string& commit = *remote;
    if (s.mirror->commit(commit))  // fetched already: what takes git so long is another branch or tag
        return make_error(ErrorCode::timed_out, timed_out.message + " (origin's " + s.options.ref + " is at commit " +
                                                    commit + ", which the mirror has: another branch or tag is slow)");
    bool refused_before = false;
    {
        std::lock_guard lock(s.mutex);
        refused_before = s.history.rejected.count(commit) > 0;
    }
    s.stalled_fetches = refused_before ? kMaxStalledFetches : (s.stalled_commit == commit ? s.stalled_fetches + 1 : 1);
    s.stalled_commit = commit;
    if (refused_before || s.stalled_fetches < kMaxStalledFetches)
        return make_error(ErrorCode::timed_out, timed_out.message + " (origin's " + s.options.ref + " is at commit " +
                                                    commit + "; " + std::to_string(s.stalled_fetches) + " of " +
                                                    std::to_string(kMaxStalledFetches) +
                                                    " timed-out fetches in a row before it is refused)");
    const std::string message = "commit " + commit + ": fetching it timed out " + std::to_string(kMaxStalledFetches) +
                                " times in a row (" + timed_out.message +
                                "); refusing the commit: it is not fetched again until origin's " + s.options.ref +
                                " moves (a tree too deep or a pack too big for git within --fetch-timeout)";
    refuse(s, commit, message);
    return make_error(ErrorCode::timed_out, message);
}

}  // namespace tandem::release
