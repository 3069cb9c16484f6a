// The process runtime: the embedded default that runs a project's services as supervised
// local processes, behind a TCP proxy per service port, and carries plans out on them.
// Its event loop runs on a thread of its own; every call here is safe from any thread.
#pragma once

#include <tandem/error.hpp>
#include <tandem/observed.hpp>
#include <tandem/plan.hpp>
#include <tandem/policy.hpp>
#include <tandem/spec.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tandem {

struct ReplicaStatus {
    int id = 0;             // unique within the runtime's life
    int pid = 0;            // also its process group
    int port = 0;           // its private port (0: none)
    std::string health;     // "unknown", "healthy", "unhealthy"
    bool routed = false;    // the proxy sends it connections
    std::chrono::system_clock::time_point started;
};

// Errors a service's replicas ran into, counted since the runtime started: what an automatic
// revert weighs in the window after a rollout.
struct ErrorCounts {
    int crashes = 0;         // replicas that exited on their own
    int probe_failures = 0;  // health probes that failed (of replicas that had been healthy)
    int failed_gates = 0;    // new replicas that never became healthy within the gate timeout
    int proxy_errors = 0;    // client connections the proxy could not hand to any replica

    int total() const { return crashes + probe_failures + failed_gates + proxy_errors; }
};

struct ServiceStatus {
    std::string name;
    ServiceState state = ServiceState::stopped;
    int port = 0;                         // public port (the proxy), 0 if none
    std::string fingerprint;              // of the spec its replicas run
    std::vector<ReplicaStatus> replicas;
    int restarts = 0;                     // crash restarts since it was last started by a plan
    std::string artifact_digest;          // the stored artifact its replicas run; empty if none
    ErrorCounts errors;                   // since the runtime started
    std::uint64_t proxy_connections = 0;  // client connections the service's proxy accepted since the runtime started
    std::string last_error;               // the last crash or failure, for display
    std::vector<std::string> crash_lines; // the last log lines before the last crash
    std::chrono::system_clock::time_point updated;
};

enum class RuntimeEventKind {
    log,      // a line a replica or a build printed
    state,    // a service changed state
    action,   // an action of a plan started or finished
    crash,    // a replica exited on its own
    failure,  // an action failed
};

struct RuntimeEvent {
    RuntimeEvent() = default;
    RuntimeEvent(RuntimeEventKind kind_, std::string service_, std::string text_, int replica_ = 0,
                 bool is_stderr_ = false, std::chrono::system_clock::time_point time_ = {})
        : kind(kind_), service(std::move(service_)), text(std::move(text_)), replica(replica_), is_stderr(is_stderr_),
          time(time_) {}

    RuntimeEventKind kind = RuntimeEventKind::log;
    std::string service;
    std::string text;      // the line, or a sentence for people
    int replica = 0;       // for log and crash events; 0 for builds and commands
    bool is_stderr = false;
    std::chrono::system_clock::time_point time;
    // For the action and failure events of a plan's action: which action ("build", "replace",
    // ...), how it ended ("started", "succeeded", "failed", "cancelled") and, once it ended, how
    // long it took. Empty / negative for other events.
    std::string action;
    std::string outcome;
    Duration elapsed{-1};
};

// One event as a JSON object on one line: {"time","kind","service","replica","stderr","text"},
// plus "action", "outcome" and "elapsed_ms" when set. What `shipper run -o json` prints and the
// HTTP API streams.
std::string to_json(const RuntimeEvent& event);

// A log event as one line, the one format of log lines: what `devloop up` and `shipper run`
// print, what both tools' `logs` print and what the log files hold:
// "2026-11-25T15:04:05.123Z api[3] err| text" (UTC; an event without a time is stamped now).
std::string format_log_line(const RuntimeEvent& event);

struct RuntimeOptions {
    std::filesystem::path project_root;  // where services and builds run (each in its workdir)
    // Logs, the record of running replicas, and (under state/) the services' `state:`
    // directories unless a plan's ApplyOptions::state_root puts them elsewhere.
    std::filesystem::path state_dir;
    std::size_t log_ring_lines = 5000;   // per service, in memory
    std::size_t log_file_bytes = 10 * 1024 * 1024;  // per service file, before it rotates
};

// Where and how one plan runs.
struct ApplyOptions {
    // Builds, commands and replicas run here (each in its service's workdir); empty means
    // RuntimeOptions::project_root. Shipper passes the release directory of a commit.
    std::filesystem::path root;
    // Where the services' `state:` directories live (`${state.NAME}` is state_root/NAME); empty
    // means RuntimeOptions::state_dir / "state". Never inside `root` when that is read-only:
    // shipper passes `<its state dir>/state`, outside every release.
    std::filesystem::path state_root;
    // What a build may write under the policy knob builds.sandbox (besides a private /tmp);
    // empty means `root`. Shipper passes the scratch copy of the commit that `root` lies in.
    std::filesystem::path build_root;
    // Called before every start of a replica of a service whose action carries an
    // artifact_digest (crash restarts included); an error refuses the start and is reported.
    // It is kept with the service's replicas after apply() returns, and called on the
    // runtime's loop thread: what it captures must live as long as those replicas run.
    std::function<Status(const std::string& service, const std::string& digest)> verify_artifact;
};

class ProcessRuntime {
public:
    using EventHandler = std::function<void(const RuntimeEvent&)>;

    // Starts the event loop. Replicas recorded in the state directory by an engine that did
    // not stop cleanly are stopped first (reported as events), so nothing runs twice.
    static Result<std::unique_ptr<ProcessRuntime>> start(const RuntimeOptions& options, EventHandler on_event);
    ~ProcessRuntime();  // stops every service, then the loop

    // Carries a plan out: waves in order, steps of a wave at once (up to plan.max_parallel),
    // each step's actions in order. Blocks until done; the first failure ends the plan and is
    // returned. `spec` and `policy` are the ones the plan was made from.
    Status apply(const Spec& spec, const PolicySet& policy, const Plan& plan, const ApplyOptions& options = {});

    // Cancels the plan apply() is carrying out, if any: no new step starts, running builds and
    // commands are killed (their process groups), rollouts under way finish on their own. apply()
    // returns an ErrorCode::cancelled error at once. Safe from any thread; does nothing when no plan runs.
    void cancel();

    Observed observe() const;
    std::vector<ServiceStatus> status() const;
    std::vector<std::string> logs(const std::string& service, std::size_t count) const;
    void stop_all();  // every service, each with its grace period; blocks until all are gone
    // SIGKILL to every replica's process group now, from any thread: a stop_all() under way
    // returns once they are reaped (a second Ctrl+C).
    void kill_all();

    struct State;

private:
    explicit ProcessRuntime(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

}  // namespace tandem
