// A runtime: where replicas and commands run, how traffic reaches them and how they are probed.
// The executor (tandem/executor.hpp) carries plans out over this interface and does everything
// else itself: rollouts, health gating, crash restarts with backoff, the revert window. The
// process runtime (tandem/process_runtime.hpp) is one implementation; adding a runtime (Docker,
// a cluster) means implementing `Runtime` and `EventLoop`, nothing more (docs/architecture.md).
//
// Also the status and event types the executor reports in, shared by every runtime.
#pragma once

#include <tandem/artifact.hpp>
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
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tandem {

enum class Health { unknown, healthy, unhealthy };
const char* to_string(Health health);

struct ReplicaStatus {
    int id = 0;             // unique within the engine's life
    std::string handle;     // what its runtime calls it: "pid 4242" (a process group), a container id
    int port = 0;           // its private port (0: none)
    Health health = Health::unknown;
    bool routed = false;    // the runtime sends it connections
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

enum class ActionOutcome { none, started, succeeded, failed, cancelled };
const char* to_string(ActionOutcome outcome);

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
    // For the action and failure events of a plan's action: which action, where it is (started,
    // then succeeded, failed or cancelled) and, once it ended, how long it took. Unset / none /
    // negative for other events.
    std::optional<ActionKind> action;
    ActionOutcome outcome = ActionOutcome::none;
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

// Where the executor runs: one thread, its tasks in order, timers on a steady clock. A runtime
// provides it (the process runtime runs an Asio loop; a test's fake runtime runs virtual time),
// calls every callback it was given on it, and expects every call of its own from it.
class EventLoop {
public:
    using Task = std::function<void()>;
    using TimerId = std::uint64_t;

    virtual ~EventLoop() = default;
    // Runs `task` on the loop's thread soon, after what is queued. Safe from any thread.
    virtual void post(Task task) = 0;
    // Runs `task` on the loop's thread once `delay` has passed, unless cancelled first. Loop thread only.
    virtual TimerId after(Duration delay, Task task) = 0;
    // A timer that has not fired does not fire (one that fired or is unknown: nothing happens).
    virtual void cancel(TimerId timer) = 0;
    virtual std::chrono::steady_clock::time_point now() const = 0;
    virtual bool on_loop_thread() const = 0;
};

enum class LogStream { out, err };

struct ExitStatus {
    int code = -1;   // the exit code, or -1 when killed by a signal
    int signal = 0;  // the signal that killed it, or 0
    bool clean() const { return code == 0; }
    std::string describe() const;  // "exited with code 3", "killed by SIGSEGV"
};

struct ProbeOutcome {
    bool ok = false;
    std::string detail;  // "connection refused", "HTTP 503", "exit code 1", "timed out after 1s"
};

// What one replica runs. The runtime picks its address (a private port, a container's network)
// and expands ${port} in the command, the env and an exec probe to it.
struct ReplicaLaunch {
    int id = 0;                      // chosen by the executor, unique within the engine's life
    ServiceSpec service;             // run.argv, port, stop_grace, health; ${state.NAME} expanded
    ArtifactRef artifact;            // what it runs; a tree's location is the release's root
    std::filesystem::path cwd;       // the service's workdir within it
    std::vector<std::pair<std::string, std::string>> env;  // ${services.X.port} expanded, ${port} not yet
    std::string user;                // `user:` (checked by the executor beforehand); empty: the engine's
    std::string fingerprint;         // of the spec it runs, for the runtime's own records
    // A container service under containers.pin_digests: its image reference is resolved to an
    // image ID once, and every replica runs that ID (a tag moved later changes nothing).
    bool pin_image = false;
};

// What the runtime learned of a replica it started, for status.
struct ReplicaInfo {
    std::string handle;  // "pid 4242", a container id
    int port = 0;        // its private port, 0 if none
};

// A build, a `run` action or a reset: one command to completion.
struct CommandLaunch {
    std::string service;
    ActionKind kind = ActionKind::run;
    std::vector<std::string> argv;
    std::filesystem::path cwd;
    std::vector<std::pair<std::string, std::string>> env;
    std::string user;  // empty: the engine's (a build always runs as the engine's user)
    // builds.sandbox: only `writable` (and a private /tmp) may be written, network only if allowed.
    struct Sandbox {
        std::filesystem::path writable;
        bool network = false;
    };
    std::optional<Sandbox> sandbox;
};

// Live update (a watch rule with `action: sync`): files of the project to put into the running
// replicas of a service that do not read the project's files where they lie (containers).
struct SyncFile {
    std::filesystem::path source;  // on disk; when it no longer exists, removed from the replicas
    std::string target;            // absolute path in the replica
};
struct SyncRequest {
    std::string service;
    std::vector<SyncFile> files;
    std::vector<std::string> commands;  // then run in each replica (`/bin/sh -c`), in order
};

// A whole release of one service, for a runtime whose cluster rolls replicas out itself
// (Runtime::orchestrates): the same release and rules the executor would carry out replica by
// replica, handed over at once.
struct ServiceUpdate {
    ServiceSpec service;  // ${state.NAME} expanded; ${port} is the container's own port
    ArtifactRef artifact; // the image it runs (an image ID, or a registry reference by digest)
    std::vector<std::pair<std::string, std::string>> env;  // ${services.X.port} expanded
    std::filesystem::path cwd;  // the service's directory in the release: relative bind mounts are under it
    std::string fingerprint;  // of the spec it runs: an update with the one running changes nothing
    int replicas = 1;
    RolloutParams rollout;    // strategy, surge, unavailable, health gate and its timeout, drain
    // How long the cluster keeps watching the updated replicas for failures before it calls the
    // update complete (a failure within it rolls the update back): the revert window under
    // auto_revert, else none.
    Duration monitor{0};
    // A replica that exited is restarted by the cluster after this long (crash.backoff_initial);
    // each exit still counts as a crash in service_status(), for the revert watch.
    Duration restart_delay{100};
    // Hears the lines the service's replicas print, from every node, for as long as the runtime
    // watches the service (the latest update's handler is the one called).
    std::function<void(LogStream, std::string_view line)> output;
};

class Runtime {
public:
    using OutputHandler = std::function<void(LogStream, std::string_view line)>;
    using ExitHandler = std::function<void(const ExitStatus&)>;
    using EventSink = std::function<void(const RuntimeEvent&)>;

    virtual ~Runtime() = default;
    virtual std::string_view name() const = 0;  // "process", "docker": for status
    virtual EventLoop& loop() = 0;

    // Called once, before anything else, with where its own events go (a leftover it stopped, a
    // record it could not save). May block: a runtime finds and stops what a killed engine left.
    virtual Status open(EventSink emit) = 0;

    // Everything below is called on loop(), and calls its callbacks there.

    // Called before each plan is carried out, with the spec the plan comes from: a runtime that
    // runs several kinds of service (tandem/per_service_runtime.hpp) learns here which one runs
    // each service, before that service's traffic is opened or its commands run. Others need
    // do nothing.
    virtual void use_spec(const Spec& spec) { (void)spec; }

    // Starts a replica. `output` hears its lines; `exited` hears once that it exited on its own
    // (never after stop_replica or kill_replica was asked for it).
    virtual Result<ReplicaInfo> start_replica(const ReplicaLaunch& launch, OutputHandler output,
                                              ExitHandler exited) = 0;
    // Stops it (SIGTERM, then SIGKILL after `grace`, or the runtime's equivalent); `stopped` runs
    // once nothing of it is left.
    virtual void stop_replica(int id, Duration grace, std::function<void()> stopped) = 0;
    // Kills every replica and command now (a second Ctrl+C): stop_replica's callbacks still run.
    virtual void kill_all() = 0;

    // Traffic: `service`'s public port (0: none) accepts connections and hands each one to a
    // routed replica. A runtime with load balancing of its own maps these to it.
    virtual Status open_service(const std::string& service, int public_port) = 0;
    virtual void close_service(const std::string& service) = 0;
    virtual void route(const std::string& service, int replica) = 0;
    // No new connections go to it; those open may finish within `drain`; `drained` runs after.
    virtual void unroute(const std::string& service, int replica, Duration drain, std::function<void()> drained) = 0;
    struct Traffic {
        std::uint64_t accepted = 0;  // client connections accepted since the service was opened
        std::uint64_t unserved = 0;  // of those, the ones no replica could take
    };
    virtual Traffic traffic(const std::string& service) const = 0;

    // One check of a running replica; `done` runs exactly once, within the spec's timeout.
    virtual void probe(int replica, const HealthSpec& spec, std::function<void(ProbeOutcome)> done) = 0;

    // Runs a command to completion; `finished` hears how it exited, or why it could not run at all
    // (its sandbox could not be made). Returns an id for kill_command.
    using CommandHandler = std::function<void(const Result<ExitStatus>&)>;
    virtual Result<int> run_command(const CommandLaunch& launch, OutputHandler output, CommandHandler finished) = 0;
    virtual void kill_command(int id) = 0;  // its `finished` still runs

    // Puts the files into every running replica of the service, then runs the commands there;
    // replicas it starts later get the same files (until a new image is built). `done` hears
    // the first failure, naming the replica. A runtime whose replicas read the project's files
    // in place (processes) has nothing to do: the default.
    virtual void sync(const SyncRequest& request, std::function<void(Status)> done) {
        (void)request;
        loop().post([done = std::move(done)] { done(Ok{}); });
    }

    // A cluster that rolls a service's replicas out itself (Docker Swarm): the executor hands it
    // each release of such a service whole instead of starting, gating, routing and retiring
    // replicas one by one; the cluster restarts crashed replicas and undoes a failed update.
    // The executor still decides automatic reverts, from service_status()'s errors. The other
    // runtimes orchestrate nothing: the defaults.
    virtual bool orchestrates(const std::string& service) const {
        (void)service;
        return false;
    }
    // Makes the cluster run `update` (creating the service, or updating it in place), with its
    // public port served; `done` hears once every replica runs it, or why not (the cluster
    // rolled back: which replica failed on which node).
    virtual void update_service(const ServiceUpdate& update, std::function<void(Status)> done) {
        loop().post([done = std::move(done), name = update.service.name] {
            done(make_error(ErrorCode::runtime, "runtime does not orchestrate service '" + name + "'"));
        });
    }
    // Removes the service from the cluster (a stop action, or the engine's end when `detach` is
    // false); with `detach`, only stops watching and serving it: it keeps running in the cluster.
    virtual void remove_service(const std::string& service, bool detach, std::function<void()> done) {
        (void)service;
        (void)detach;
        loop().post(std::move(done));
    }
    // Removes what the runtime keeps of the project outside the state directory, once nothing of
    // it runs: the Docker runtime's named volumes (its network goes with the runtime). For a copy
    // of a project that goes for good, as a deploy preview whose branch was deleted. Nothing by
    // default: the process runtime keeps services' state in the state directory, which the
    // caller removes.
    virtual void discard_data(std::function<void(Status)> done) {
        loop().post([done = std::move(done)] { done(Ok{}); });
    }
    // What the cluster runs of the service now: its replicas (tasks, each on a node), health and
    // the errors counted since the runtime started. Unset for a service it does not run.
    virtual std::optional<ServiceStatus> service_status(const std::string& service) const {
        (void)service;
        return std::nullopt;
    }
};

}  // namespace tandem
