// Health thresholds and the monitor's schedule of checks.
#include "execute/health_monitor.hpp"

#include <algorithm>

namespace tandem::execute {

HealthThresholds::HealthThresholds(int success_threshold, int failure_threshold)
    : success_threshold_(std::max(1, success_threshold)), failure_threshold_(std::max(1, failure_threshold)) {}

Health HealthThresholds::record(bool ok) {
    if (ok) {
        failures_ = 0;
        if (++successes_ >= success_threshold_) health_ = Health::healthy;
    } else {
        successes_ = 0;
        if (++failures_ >= failure_threshold_) health_ = Health::unhealthy;
    }
    return health_;
}

HealthMonitor::HealthMonitor(EventLoop& loop, const HealthSpec& spec, Check check, ChangeHandler on_change)
    : loop_(loop), spec_(spec), check_(std::move(check)),
      thresholds_(spec.success_threshold, spec.failure_threshold), on_change_(std::move(on_change)) {}

HealthMonitor::~HealthMonitor() { stop(); }

void HealthMonitor::on_result(ResultHandler handler) { on_result_ = std::move(handler); }

void HealthMonitor::start() {
    if (running_) return;
    running_ = true;
    if (!checking_) schedule(loop_.now() + spec_.initial_delay);
}

void HealthMonitor::stop() {
    running_ = false;
    timer_.cancel();
}

void HealthMonitor::schedule(std::chrono::steady_clock::time_point at) {
    const auto delay = std::max(Duration(0), std::chrono::duration_cast<Duration>(at - loop_.now()));
    std::weak_ptr<HealthMonitor> weak = weak_from_this();
    timer_.start(loop_, delay, [weak] {
        auto self = weak.lock();
        if (self && self->running_ && !self->checking_) self->run_check();
    });
}

void HealthMonitor::run_check() {
    checking_ = true;
    const auto started = loop_.now();
    std::weak_ptr<HealthMonitor> weak = weak_from_this();
    check_([weak, started](ProbeOutcome outcome) {
        auto self = weak.lock();
        if (!self) return;
        self->checking_ = false;
        if (!self->running_) return;
        const Health before = self->thresholds_.health();
        const Health after = self->thresholds_.record(outcome.ok);
        // Next check one interval after this one began, never overlapping it.
        self->schedule(std::max(started + self->spec_.interval, self->loop_.now()));
        if (self->on_result_) self->on_result_(outcome);
        if (after != before && self->running_ && self->on_change_) self->on_change_(after, outcome);
    });
}

}  // namespace tandem::execute
