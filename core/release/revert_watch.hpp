// The window after a rollout in which a release's errors are counted: failed gates, failed
// probes, crashes and connections the proxy could not place. Past `auto_revert.max_errors`
// (or at the first crash when `crash.on_crash` is revert) the release is to be reverted.
#pragma once

#include <tandem/policy.hpp>
#include <tandem/runtime.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tandem::release {

class RevertWatch {
public:
    using Clock = std::chrono::steady_clock;

    // Opens the window for `commit`; `baseline` is the runtime's status as the rollout ended.
    void open(const std::string& commit, const PolicySet& policy, const std::vector<ServiceStatus>& baseline,
              Clock::time_point now);
    void close() { commit_.clear(); }
    bool is_open() const { return !commit_.empty(); }
    const std::string& commit() const { return commit_; }
    Clock::time_point ends() const { return ends_; }

    // Why the release must be reverted, given the status now; nothing while it is within its
    // limits. The window closes by itself once it has passed.
    std::optional<std::string> check(const std::vector<ServiceStatus>& now_status, Clock::time_point now);

private:
    std::string commit_;
    Clock::time_point ends_;
    int max_errors_ = 0;
    bool revert_on_crash_ = false;
    ErrorCounts baseline_;
};

// The sum of every service's error counts.
ErrorCounts total_errors(const std::vector<ServiceStatus>& services);

}  // namespace tandem::release
