// One service's replicas under supervision: it starts them from a release, gates them on
// health, puts them behind the service's proxy, restarts crashed ones with backoff (or reports
// them, when the policy reverts instead), and carries rollouts out as their ReplicaControl.
#pragma once

#include "runtime/process/asio.hpp"
#include "runtime/process/backoff.hpp"
#include "runtime/process/child_process.hpp"
#include "runtime/process/health_probe.hpp"
#include "runtime/process/log_store.hpp"
#include "runtime/process/rollout.hpp"
#include "runtime/process/runtime_state.hpp"
#include "runtime/process/tcp_proxy.hpp"

#include <tandem/runtime.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace tandem::process {

// What one generation of replicas runs.
struct Release {
    ServiceSpec service;
    std::vector<std::pair<std::string, std::string>> env;  // ${services.X.port} expanded, ${port} not yet
    std::filesystem::path cwd;
    std::optional<SystemUser> user;  // `user:`: its replicas and their exec probes run as this user
    std::string fingerprint;
    std::string artifact_digest;  // the stored artifact it runs ("sha256:..."); empty if none
    // Checked before every start of a replica, crash restarts included; an error refuses the
    // start. Empty: nothing to check.
    std::function<Status()> verify;
};

// The policy's rules for one rollout and for crashes afterwards.
struct SupervisionRules {
    RolloutParams rollout;
    bool wait_for_health = true;  // replicas count as ready only once healthy (if the service has a probe)
    CrashAction on_crash = CrashAction::restart;
    Duration backoff_initial{100}, backoff_max{10000}, stable_after{30000};
};

// What a supervisor reports to the runtime that owns it.
struct SupervisorHooks {
    std::function<void(const RuntimeEvent&)> emit;
    std::function<void()> replicas_changed;  // the set of running replicas changed: persist it
    LogStore* logs = nullptr;
};

class ServiceSupervisor : public ReplicaControl, public std::enable_shared_from_this<ServiceSupervisor> {
public:
    ServiceSupervisor(asio::io_context& io, std::string name, SupervisorHooks hooks);
    ~ServiceSupervisor() override;

    // Replaces whatever runs with `replicas` replicas of `release` (a fresh start when none
    // runs). `done` gets the outcome once the rollout has succeeded or failed.
    void roll_out(Release release, int replicas, SupervisionRules rules, std::function<void(Status)> done);
    // Stops every replica (each with the service's grace period) and closes the proxy.
    void stop(std::function<void()> done);

    ServiceStatus status() const;
    std::vector<ReplicaRecord> records() const;
    const std::string& name() const { return name_; }

    // ReplicaControl, for the running rollout.
    int start_replica() override;
    void route(int id) override;
    void retire(int id) override;
    void discard(int id) override;

private:
    struct Replica;
    Status ensure_proxy(int port);
    void close_proxy();
    Status check_release(const Release& release, int id);
    std::optional<int> spawn_replica(const Release& release);
    void watch_health(Replica& replica);
    void start_monitor(Replica& replica, const HealthSpec& spec, bool port_check_only,
                       std::function<void()> became_ready);
    void replica_exited(int id, const ExitStatus& status);
    void handle_crash(Replica& replica, const ExitStatus& status);
    void stop_replica(int id, bool drain);
    void finish_rollout_if_done();
    void set_state(ServiceState state, const std::string& why = {});
    void emit(RuntimeEventKind kind, const std::string& text, int replica = 0, bool is_stderr = false);

    asio::io_context& io_;
    std::string name_;
    SupervisorHooks hooks_;
    std::unique_ptr<TcpProxy> proxy_;
    std::map<int, std::unique_ptr<Replica>> replicas_;
    std::optional<Release> release_;
    SupervisionRules rules_;
    std::unique_ptr<Rollout> rollout_;
    std::function<void(Status)> rollout_done_;
    std::optional<Backoff> backoff_;
    ServiceStatus status_;
    std::function<void()> stop_done_;
    bool stopping_ = false;
};

// One replica as its supervisor tracks it.
struct ServiceSupervisor::Replica {
    int id = 0;
    int port = 0;
    std::shared_ptr<ChildProcess> child;
    std::shared_ptr<HealthMonitor> monitor;
    std::unique_ptr<asio::steady_timer> gate;
    Health health = Health::unknown;
    bool was_healthy = false;  // passed its probe once: failures from then on count as errors
    bool ready = false;
    bool routed = false;
    bool stopping = false;
    bool in_rollout = false;  // started by the running rollout
    std::string fingerprint;
    std::chrono::steady_clock::time_point started;
    ReplicaRecord record;
};

// A free TCP port on 127.0.0.1, as the kernel hands one out for port 0.
Result<int> free_local_port();

}  // namespace tandem::process
