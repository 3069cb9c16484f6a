// One service's replicas under supervision: it starts them from a release on the runtime,
// gates them on health, routes traffic to them, restarts crashed ones with backoff (or reports
// them, when the policy reverts instead), and carries rollouts out as their ReplicaControl.
// Everything here runs on the runtime's event loop.
#pragma once

#include "execute/backoff.hpp"
#include "execute/health_monitor.hpp"
#include "execute/loop_timer.hpp"
#include "execute/rollout.hpp"
#include "runtime/log_store.hpp"
#include "support/system_user.hpp"

#include <tandem/runtime.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace tandem::execute {

// What one generation of replicas runs.
struct Release {
    ServiceSpec service;
    std::vector<std::pair<std::string, std::string>> env;  // ${services.X.port} expanded, ${port} not yet
    std::filesystem::path cwd;
    std::optional<SystemUser> user;  // `user:`: its replicas and their exec probes run as this user
    std::string fingerprint;
    ArtifactRef artifact;         // what it runs (a tree: the release's root; an image)
    bool pin_image = false;       // ReplicaLaunch::pin_image
    // Checked before every start of a replica, crash restarts included; an error refuses the
    // start. Empty: nothing to check.
    std::function<Status()> verify;
};

// What the runtime is asked to start for replica `id` of `release`.
ReplicaLaunch replica_launch(const Release& release, int id);

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
    process::LogStore* logs = nullptr;
};

class ServiceSupervisor : public ReplicaControl, public std::enable_shared_from_this<ServiceSupervisor> {
public:
    ServiceSupervisor(Runtime& runtime, std::string name, SupervisorHooks hooks);
    ~ServiceSupervisor() override;

    // Replaces whatever runs with `replicas` replicas of `release` (a fresh start when none
    // runs). `done` gets the outcome once the rollout has succeeded or failed.
    void roll_out(Release release, int replicas, SupervisionRules rules, std::function<void(Status)> done);
    // Stops every replica (each with the service's grace period) and closes the proxy. A
    // rollout under way ends at once (its `done` gets a cancelled error) and starts nothing more;
    // no restart is pending afterwards.
    void stop(std::function<void()> done);
    // As stop(), but a service its cluster runs (Runtime::orchestrates) keeps running there: only
    // this engine stops watching and serving it. What Executor::stop_all does at the engine's end.
    void stop_at_exit(std::function<void()> done);
    ServiceStatus status() const;
    const std::string& name() const { return name_; }

    // ReplicaControl, for the running rollout.
    int start_replica() override;
    void route(int id) override;
    void retire(int id) override;
    void discard(int id) override;

private:
    struct Replica;
    // A release handed whole to a runtime that orchestrates the service (cluster_service.cpp).
    void hand_over(Release release, int replicas, SupervisionRules rules, std::function<void(Status)> done);
    void stop_handed_over(bool detach, std::function<void()> done);
    ServiceStatus handed_over_status() const;
    Status ensure_traffic(int port);
    void close_traffic();
    Status check_release(const Release& release, int id);
    std::optional<int> spawn_replica(const Release& release);
    void watch_health(Replica& replica);
    void gate_passed_ungated(int id);
    void start_gate(Replica& replica);
    void start_monitor(Replica& replica, const HealthSpec& spec, bool port_check_only,
                       std::function<void()> became_ready);
    void replica_became_ready(int id);
    void replica_exited(int id, const ExitStatus& status);
    void replica_output(int id, LogStream stream, std::string_view text);
    void handle_crash(Replica& replica, const ExitStatus& status);
    void job_completed(Replica& replica);
    void record_crash(const Replica& replica, const ExitStatus& exit);
    bool crash_is_reverted() const;
    // `ran_since`: when the replica that is missing started (a failed start: now).
    void schedule_restart(std::chrono::steady_clock::time_point ran_since);
    void post(std::function<void(ServiceSupervisor&)> task);
    void restart_missing();
    int alive_replicas() const;
    void stop_replica(int id, bool drain);
    void finish_rollout_if_done();
    void keep_previous_release();
    void abort_rollout();
    void set_state(ServiceState state, const std::string& why = {});
    void emit(RuntimeEventKind kind, const std::string& text, int replica = 0, bool is_stderr = false);

    Runtime& runtime_;
    EventLoop& loop_;
    std::string name_;
    SupervisorHooks hooks_;
    int traffic_port_ = 0;                  // the public port the runtime opened for it, 0: none
    Runtime::Traffic closed_traffic_;       // what its closed public ports counted
    std::map<int, std::unique_ptr<Replica>> replicas_;
    std::optional<Release> release_;
    int target_ = 0;                     // replicas of release_ that should run
    std::optional<Release> previous_;    // what ran before the rollout under way, and how many
    int previous_target_ = 0;
    SupervisionRules rules_;
    std::chrono::steady_clock::time_point rolled_out_;  // when the last rollout ended
    LoopTimer restart_timer_;  // the one pending restart, if any
    std::unique_ptr<Rollout> rollout_;
    std::function<void(Status)> rollout_done_;
    std::optional<Backoff> backoff_;
    ServiceStatus status_;
    std::function<void()> stop_done_;
    bool stopping_ = false;
    bool handed_over_ = false;  // its cluster runs it (Runtime::orchestrates): no replicas of ours
    int handover_ = 0;          // the update under way, counted: a later one makes an earlier one's answer stale
};

// One replica as its supervisor tracks it.
struct ServiceSupervisor::Replica {
    int id = 0;
    ReplicaInfo info;  // the runtime's handle and its private port
    std::shared_ptr<HealthMonitor> monitor;
    LoopTimer gate;
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
};

}  // namespace tandem::execute
