// Counting a release's errors in the window after its rollout.
#include "release/revert_watch.hpp"

namespace tandem::release {

ErrorCounts total_errors(const std::vector<ServiceStatus>& services) {
    ErrorCounts sum;
    for (const auto& s : services) {
        sum.crashes += s.errors.crashes;
        sum.probe_failures += s.errors.probe_failures;
        sum.failed_gates += s.errors.failed_gates;
        sum.proxy_errors += s.errors.proxy_errors;
    }
    return sum;
}

void RevertWatch::open(const std::string& commit, const PolicySet& policy, const std::vector<ServiceStatus>& baseline,
                       Clock::time_point now) {
    commit_ = commit;
    ends_ = now + policy.auto_revert.window;
    max_errors_ = policy.auto_revert.max_errors;
    revert_on_crash_ = policy.crash.on_crash == CrashAction::revert;
    baseline_ = total_errors(baseline);
}

std::optional<std::string> RevertWatch::check(const std::vector<ServiceStatus>& now_status, Clock::time_point now) {
    if (!is_open()) return std::nullopt;
    const ErrorCounts current = total_errors(now_status);
    const ErrorCounts delta{current.crashes - baseline_.crashes, current.probe_failures - baseline_.probe_failures,
                            current.failed_gates - baseline_.failed_gates, current.proxy_errors - baseline_.proxy_errors};
    auto describe = [&delta] {
        return std::to_string(delta.crashes) + " crashes, " + std::to_string(delta.probe_failures) +
               " failed probes, " + std::to_string(delta.failed_gates) + " failed gates, " +
               std::to_string(delta.proxy_errors) + " proxy connection errors";
    };
    if (revert_on_crash_ && delta.crashes > 0) {
        close();
        return "a replica crashed after the rollout (crash.on_crash: revert): " + describe();
    }
    if (delta.total() > max_errors_) {
        close();
        return describe() + " after the rollout, more than auto_revert.max_errors (" + std::to_string(max_errors_) + ")";
    }
    if (now >= ends_) close();
    return std::nullopt;
}

}  // namespace tandem::release
