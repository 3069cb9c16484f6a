// Health probes (tcp, http, exec) run on the event loop, and the thresholds that turn their
// single results into a replica's health.
#pragma once

#include "support/asio.hpp"
#include "support/system_user.hpp"

#include <tandem/spec.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace tandem::process {

struct ProbeOutcome {
    bool ok = false;
    std::string detail;  // "connection refused", "HTTP 503", "exit code 1", "timed out after 1s"
};

// One check of one replica. check() never blocks the loop; `done` is called exactly once on the
// loop's thread, within the spec's timeout.
class HealthProbe {
public:
    virtual ~HealthProbe() = default;
    virtual void check(std::function<void(ProbeOutcome)> done) = 0;
};

// `port` is the replica's own (private) port; exec probes run in `cwd` with `env` added, as
// `user` when given.
std::unique_ptr<HealthProbe> make_probe(asio::io_context& io, const HealthSpec& spec, int port,
                                        const std::filesystem::path& cwd,
                                        const std::vector<std::pair<std::string, std::string>>& env,
                                        const std::optional<SystemUser>& user = std::nullopt);

enum class Health { unknown, healthy, unhealthy };
const char* to_string(Health health);

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

// Runs a probe every interval after the initial delay and reports each change of health.
class HealthMonitor : public std::enable_shared_from_this<HealthMonitor> {
public:
    using ChangeHandler = std::function<void(Health, const ProbeOutcome& last)>;
    using ResultHandler = std::function<void(const ProbeOutcome&)>;
    HealthMonitor(asio::io_context& io, const HealthSpec& spec, std::unique_ptr<HealthProbe> probe,
                  ChangeHandler on_change);
    ~HealthMonitor();  // stops it
    // Also hears every single result (before the change it may cause), e.g. to count failures.
    void on_result(ResultHandler handler);
    void start();
    void stop();  // no more probes, no more callbacks
    Health health() const;

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace tandem::process
