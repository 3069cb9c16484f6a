// What a supervisor does when a replica exits on its own: record why (with the replica's last
// output lines), and keep the replica count it was asked for, restarting with backoff: after a
// crash, after a start that failed its gate, and never while a restart is already pending.
#include "execute/service_supervisor.hpp"

#include <tandem/duration.hpp>

#include <algorithm>
#include <array>

namespace tandem::execute {

namespace {

constexpr std::size_t kCrashLines = 20;      // kept for display
constexpr std::size_t kCrashScanLines = 400;  // of the service's newest lines, searched for the replica's

// Words that make a line the likely reason of a crash ("SyntaxError: invalid syntax",
// "FATAL:  data directory ... has invalid permissions", "panic: ...").
bool telling(const std::string& line) {
    static const std::array<std::string_view, 9> words{"Error", "error:", "Exception", "FATAL", "fatal:",
                                                       "panic:", "Traceback", "not found", "denied"};
    return std::any_of(words.begin(), words.end(),
                       [&](std::string_view word) { return line.find(word) != std::string::npos; });
}

}  // namespace

int ServiceSupervisor::alive_replicas() const {
    return static_cast<int>(std::count_if(replicas_.begin(), replicas_.end(),
                                          [](const auto& entry) { return !entry.second->stopping; }));
}

void ServiceSupervisor::replica_exited(int id, const ExitStatus& status) {
    auto it = replicas_.find(id);
    if (it == replicas_.end() || it->second->stopping) return;  // stop_replica's callback takes it from here
    if (release_ && release_->service.job && status.clean()) job_completed(*it->second);
    else handle_crash(*it->second, status);
}

// A job's run that exited 0 is its success: for the rollout that started it, the replica's
// readiness; afterwards nothing of it runs, and nothing is restarted.
void ServiceSupervisor::job_completed(Replica& replica) {
    const int id = replica.id;
    const bool in_rollout = replica.in_rollout;
    replica.gate.cancel();
    replicas_.erase(id);
    emit(RuntimeEventKind::state, "replica " + std::to_string(id) + " completed (exit code 0)", id);
    if (in_rollout && rollout_ && rollout_->state() == RolloutState::running) {
        rollout_->replica_ready(id);
        finish_rollout_if_done();
    } else {
        status_.last_error.clear();
        status_.crash_lines.clear();
        set_state(ServiceState::completed);
    }
    target_ = 0;  // done: a restart or a failed rollout later finds nothing missing
}

// The crash as status shows it: "replica 4 exited with code 3: SyntaxError: invalid syntax",
// with the replica's own last lines (not another replica's, not a build's).
void ServiceSupervisor::record_crash(const Replica& replica, const ExitStatus& exit) {
    ++status_.errors.crashes;
    status_.last_error = "replica " + std::to_string(replica.id) + " " + exit.describe();
    status_.crash_lines.clear();
    if (!hooks_.logs) return;
    for (const auto& line : hooks_.logs->tail(name_, kCrashScanLines))
        if (line.replica == replica.id) status_.crash_lines.push_back(line.text);
    if (status_.crash_lines.size() > kCrashLines)
        status_.crash_lines.erase(status_.crash_lines.begin(),
                                  status_.crash_lines.end() - static_cast<std::ptrdiff_t>(kCrashLines));
    auto reason = std::find_if(status_.crash_lines.rbegin(), status_.crash_lines.rend(), telling);
    if (reason == status_.crash_lines.rend() && !status_.crash_lines.empty()) reason = status_.crash_lines.rbegin();
    if (reason != status_.crash_lines.rend()) status_.last_error += ": " + *reason;
}

// Under on_crash: revert, a crash soon after a rollout is the release's fault: whoever applied it
// reverts. Later, or under on_crash: restart, the supervisor restarts the replica itself.
bool ServiceSupervisor::crash_is_reverted() const {
    if (rules_.on_crash != CrashAction::revert) return false;
    return loop_.now() - rolled_out_ < rules_.revert_window;
}

void ServiceSupervisor::handle_crash(Replica& replica, const ExitStatus& exit) {
    const int id = replica.id;
    record_crash(replica, exit);
    emit(RuntimeEventKind::crash, status_.last_error, id);
    if (replica.monitor) replica.monitor->stop();
    replica.gate.cancel();
    if (replica.routed && traffic_port_ != 0) runtime_.unroute(name_, id, Duration(0), [] {});
    const bool in_rollout = replica.in_rollout;
    const auto ran_since = replica.started;
    replicas_.erase(id);

    if (rollout_ && rollout_->state() == RolloutState::running) {
        rollout_->replica_failed(id, status_.last_error);
        finish_rollout_if_done();
        if (in_rollout) return;
    }
    if (stopping_ || !release_) return;
    set_state(ServiceState::crashed, status_.last_error);
    if (crash_is_reverted()) {
        emit(RuntimeEventKind::failure, "crash.on_crash is revert: not restarting; the release should be reverted");
        return;
    }
    schedule_restart(ran_since);
}

// One restart pending at a time; when it fires it starts as many replicas as are missing from
// the count the service was rolled out with, so a crash restart never adds a replica to those a
// newer rollout started (roll_out() and stop() cancel it).
void ServiceSupervisor::schedule_restart(std::chrono::steady_clock::time_point ran_since) {
    if (restart_timer_.pending() || stopping_ || !release_ || !backoff_) return;
    const Duration delay = backoff_->next_delay(ran_since, loop_.now());
    ++status_.restarts;
    emit(RuntimeEventKind::state, "restarting in " + format_duration(delay) + " (crash " +
                                      std::to_string(backoff_->consecutive_crashes()) + ")");
    std::weak_ptr<ServiceSupervisor> weak = weak_from_this();
    restart_timer_.start(loop_, delay, [weak] {
        if (auto self = weak.lock()) self->restart_missing();
    });
}

void ServiceSupervisor::restart_missing() {
    if (stopping_ || !release_) return;
    if (rollout_ && rollout_->state() == RolloutState::running) return;  // the rollout starts what it needs
    for (int missing = target_ - alive_replicas(); missing > 0; --missing)
        if (!spawn_replica(*release_)) return;  // refused (its artifact, no port): it stays down, reported
}

}  // namespace tandem::execute
