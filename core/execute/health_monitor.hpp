// The thresholds that turn single probe results into a replica's health, and the monitor that
// runs a replica's probe every interval on the executor's loop (the probe itself is the runtime's).
#pragma once

#include "execute/loop_timer.hpp"

#include <tandem/runtime.hpp>
#include <tandem/spec.hpp>

#include <functional>
#include <memory>

namespace tandem::execute {

// success_threshold consecutive successes make a replica healthy; failure_threshold consecutive
// failures make it unhealthy. Pure: no clock, no I/O.
class HealthThresholds {
public:
    HealthThresholds(int success_threshold, int failure_threshold);
    Health record(bool ok);  // the health after this result
    Health health() const { return health_; }

private:
    int success_threshold_, failure_threshold_;
    int successes_ = 0, failures_ = 0;
    Health health_ = Health::unknown;
};

// Runs a check every interval after the initial delay (never two at once) and reports each
// change of health.
class HealthMonitor : public std::enable_shared_from_this<HealthMonitor> {
public:
    using Check = std::function<void(std::function<void(ProbeOutcome)> done)>;
    using ChangeHandler = std::function<void(Health, const ProbeOutcome& last)>;
    using ResultHandler = std::function<void(const ProbeOutcome&)>;
    HealthMonitor(EventLoop& loop, const HealthSpec& spec, Check check, ChangeHandler on_change);
    ~HealthMonitor();  // stops it
    // Also hears every single result (before the change it may cause), e.g. to count failures.
    void on_result(ResultHandler handler);
    void start();
    void stop();  // no more checks, no more callbacks
    Health health() const { return thresholds_.health(); }

private:
    void schedule(std::chrono::steady_clock::time_point at);
    void run_check();

    EventLoop& loop_;
    HealthSpec spec_;
    Check check_;
    HealthThresholds thresholds_;
    ChangeHandler on_change_;
    ResultHandler on_result_;
    LoopTimer timer_;
    bool running_ = false;
    bool checking_ = false;
};

}  // namespace tandem::execute
