// One service's replicas under supervision: it starts them from a release, gates them on
// health, puts them behind the service's proxy, restarts crashed ones with backoff (or reports
// them, when the policy reverts instead), and carries rollouts out as their ReplicaControl.
#pragma once

#include "support/asio.hpp"
#include "runtime/process/backoff.hpp"
#include "runtime/process/child_process.hpp"
#include "runtime/process/health_probe.hpp"
#include "runtime/log_store.hpp"
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

// How a replica of `release` on `port` (0: none) is launched: ${port} expanded, PORT set
// (unless env sets it), the release's env and workdir.
LaunchSpec launch_spec(const Release& release, int port);

// The service's probe for a replica on `port`: ${port} in an exec probe's command expanded.
HealthSpec probe_spec(const HealthSpec& health, int port);

// The policy's rules for one rollout and for crashes afterwards.
struct SupervisionRules {
    RolloutParams rollout;
    // The rollout waits until a new replica is ready before it counts it as done (a replica
    // takes traffic only once ready either way: its probe passed, or its port accepts connections).
    bool wait_for_health = true;
    CrashAction on_crash = CrashAction::restart;
    // Under on_crash: revert, a crash this long after the rollout is reverted (by whoever applies
    // plans); a later one is restarted with backoff like under on_crash: restart.
    Duration revert_window{0};
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
    // Stops every replica (each with the service's grace period) and closes the proxy. A
    // rollout under way ends at once (its `done` gets a cancelled error) and starts nothing more;
    // no restart is pending afterwards.
    void stop(std::function<void()> done);
    // SIGKILL to every replica's process group now (a forced stop; stop()'s `done` still runs
    // once they are gone).
    void kill();

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
    void start_gate(Replica& replica);
    void start_monitor(Replica& replica, const HealthSpec& spec, bool port_check_only,
                       std::function<void()> became_ready);
    void replica_became_ready(int id);
    void replica_exited(int id, const ExitStatus& status);
    void handle_crash(Replica& replica, const ExitStatus& status);
    void job_completed(Replica& replica);
    void record_crash(const Replica& replica, const ExitStatus& exit);
    bool crash_is_reverted() const;
    // `ran_since`: when the replica that is missing started (a failed start: now).
    void schedule_restart(std::chrono::steady_clock::time_point ran_since);
    void restart_missing();
    int alive_replicas() const;
    void stop_replica(int id, bool drain);
    void finish_rollout_if_done();
    void keep_previous_release();
    void abort_rollout();
    void set_state(ServiceState state, const std::string& why = {});
    void emit(RuntimeEventKind kind, const std::string& text, int replica = 0, bool is_stderr = false);

    asio::io_context& io_;
    std::string name_;
    SupervisorHooks hooks_;
    std::unique_ptr<TcpProxy> proxy_;
    std::map<int, std::unique_ptr<Replica>> replicas_;
    std::optional<Release> release_;
    int target_ = 0;                     // replicas of release_ that should run
    std::optional<Release> previous_;    // what ran before the rollout under way, and how many
    int previous_target_ = 0;
    SupervisionRules rules_;
    std::chrono::steady_clock::time_point rolled_out_;  // when the last rollout ended
    std::unique_ptr<asio::steady_timer> restart_timer_;  // the one pending restart, if any
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
    bool ready = false;         // its probe passed (or its port accepts connections, or it has neither)
    bool route_wanted = false;  // the rollout routed it before it was ready: route once it is
    bool routed = false;
    bool stopping = false;
    bool in_rollout = false;  // started by the running rollout
    std::string fingerprint;
    std::string digest;
    std::chrono::steady_clock::time_point started;
    ReplicaRecord record;
};

// A free TCP port on 127.0.0.1, as the kernel hands one out for port 0.
Result<int> free_local_port();

}  // namespace tandem::process
