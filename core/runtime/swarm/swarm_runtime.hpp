// The swarm runtime (tandem/swarm_runtime.hpp): each container service a swarm service of the
// cluster, updated in place by the cluster's own rolling update. Its parts: the runtime and the
// update of a service (swarm_runtime.cpp), the service spec a release becomes
// (swarm_service_spec.cpp), and what is watched while a service exists: tasks, nodes, the
// public port's backends and the logs (swarm_watch.cpp).
#pragma once

#include "runtime/docker/docker_client.hpp"
#include "runtime/process/asio_event_loop.hpp"
#include "runtime/process/tcp_proxy.hpp"

#include <tandem/runtime.hpp>
#include <tandem/swarm_runtime.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tandem::swarm {

// Whether the runtime a callback was given by still runs (its liveness token).
inline bool live(const std::weak_ptr<bool>& alive) {
    const auto token = alive.lock();
    return token && *token;
}

// The names and labels of what the runtime makes.
struct SwarmNames {
    std::string project;  // docker_name_part of the project
    std::string engine;   // the state directory: label tandem.engine
    std::map<std::string, std::string> extra;
    std::string registry;  // "host:port" nodes pull from; empty: images are run by the reference written

    std::string service(const std::string& name) const;  // "<project>-<service>"
    std::string network() const;                          // "<project>-net"
    std::string volume(const std::string& name) const;    // "<project>_<name>"
    // Where the nodes pull a service's image of `digest` from: "<registry>/<project>-<service>@<digest>".
    std::string image(const std::string& service, const std::string& digest) const;
    nlohmann::json labels(const std::string& service = {}) const;
};

// One task of a service, as the cluster last reported it.
struct TaskView {
    std::string id;
    int slot = 0;
    std::string node;          // node ID
    std::string state;         // "running", "failed", "shutdown", ...
    std::string desired;       // "running", "shutdown"
    std::string error;         // Status.Err
    std::string message;       // Status.Message
    int exit_code = 0;
    int published_port = 0;    // the host-mode port of the service's port, 0: none yet
    std::map<int, int> published;  // every target port -> its published port on the node
    std::string image;         // Spec.ContainerSpec.Image
    std::string timestamp;     // Status.Timestamp
    std::string created;       // CreatedAt
};

struct NodeView {
    std::string hostname;
    std::string address;  // Status.Addr
    std::string state;    // "ready", "down"
    std::string availability;
};

// The swarm service spec of an update: image by reference, replicas, env, mounts (named volumes,
// tmpfs, read-only files as secrets), health check, restart policy, update and rollback config
// from the rollout rules, host-mode ports, the overlay network. `secrets` are the secret IDs by
// their names, made beforehand. An error names the service and what swarm cannot run.
struct SecretRef {
    std::string id;
    std::string name;
    std::string target;  // the path in the container
};
Result<nlohmann::json> service_spec(const ServiceUpdate& update, const SwarmNames& names,
                                    const std::vector<SecretRef>& secrets);
// The read-only bind mounts of files of the update's service: what becomes a swarm secret.
struct SecretFile {
    std::filesystem::path path;
    std::string target;
    std::string name;  // "<project>-<file name>-<12 hex of its content>"
    std::string data;  // the content
};
Result<std::vector<SecretFile>> secret_files(const ServiceSpec& service, const std::filesystem::path& cwd,
                                             const SwarmNames& names);

TaskView task_view(const nlohmann::json& task, int target_port);
NodeView node_view(const nlohmann::json& node);

// The task a stalled update waits on, if any. Swarm's updater waits for each new task to run; one
// placed on a node that then went down never does, and the update stays `updating` for good (the
// node's tasks are only marked for shutdown). A task of `image` made by this update (created at or
// after UpdateStatus.StartedAt), not yet running, on a node the manager sees down.
std::optional<TaskView> stalled_update_task(const nlohmann::json& update_status, const std::string& image,
                                            const std::map<std::string, TaskView>& tasks,
                                            const std::map<std::string, NodeView>& nodes);
// Orders two of the manager's RFC 3339 UTC times ("2026-12-02T22:58:55.12Z"): a < b.
bool swarm_time_before(const std::string& a, const std::string& b);

class SwarmRuntime final : public Runtime {
public:
    SwarmRuntime(process::AsioEventLoop& loop, SwarmRuntimeOptions options);
    ~SwarmRuntime() override;

    std::string_view name() const override { return "swarm"; }
    EventLoop& loop() override { return loop_; }
    // Asks the manager (it must be a swarm manager), and takes up the services of this engine the
    // cluster runs, so that status shows them at once.
    Status open(EventSink emit) override;
    // `project:` names what is made from then on (a service the cluster runs keeps its name).
    void use_spec(const Spec& spec) override;

    // Replicas are the cluster's: these refuse, naming the service.
    Result<ReplicaInfo> start_replica(const ReplicaLaunch& launch, OutputHandler output, ExitHandler exited) override;
    void stop_replica(int id, Duration grace, std::function<void()> stopped) override;
    void kill_all() override {}
    Status open_service(const std::string& service, int public_port) override;
    void close_service(const std::string& service) override;
    void route(const std::string&, int) override {}
    void unroute(const std::string& service, int replica, Duration drain, std::function<void()> drained) override;
    Traffic traffic(const std::string& service) const override;
    void probe(int replica, const HealthSpec& spec, std::function<void(ProbeOutcome)> done) override;
    Result<int> run_command(const CommandLaunch& launch, OutputHandler output, CommandHandler finished) override;
    void kill_command(int) override {}

    bool orchestrates(const std::string&) const override { return true; }
    void update_service(const ServiceUpdate& update, std::function<void(Status)> done) override;
    void remove_service(const std::string& service, bool detach, std::function<void()> done) override;
    std::optional<ServiceStatus> service_status(const std::string& service) const override;

private:
    // One service as the runtime watches it.
    struct Watched {
        std::string name;           // tandem's
        std::string id;             // the swarm service's ID
        int replicas = 0;
        int target_port = 0;        // the container port the public port forwards to
        std::string image;          // what the last update asked for
        std::map<std::string, TaskView> tasks;  // by task ID
        std::set<std::string> failed;           // tasks seen failed or rejected (errors)
        bool tasks_read = false;  // once: the tasks it had before are history, not news
        std::unique_ptr<process::TcpProxy> proxy;
        int public_port = 0;                    // the proxy's
        std::function<void(LogStream, std::string_view)> output;  // the latest update's
        Traffic closed_traffic;
        std::map<std::string, int> backends;    // task ID -> the proxy's backend id
        int next_backend = 1;
        docker::StreamHandle logs;
        bool logs_open = false;
        std::string last_error;
        // The update under way, if any.
        struct Pending {
            std::function<void(Status)> done;
            std::chrono::steady_clock::time_point deadline;
            bool created = false;  // a new service: it has no UpdateStatus to wait for
            int generation = 0;
            // UpdateStatus.StartedAt before this update was asked for: a status that still carries
            // it is the previous update's, not this one's.
            std::string update_started;
        };
        std::optional<Pending> pending;
        int generation = 0;
        bool last_update_ok = true;  // how the latest update ended, as this engine recorded it
        // Since when its update waits on a task on a node that is down (swarm_stall.cpp).
        std::optional<std::chrono::steady_clock::time_point> stalled_since;
    };

    void emit(RuntimeEventKind kind, const std::string& service, const std::string& text, bool is_stderr = false);
    // The update (swarm_runtime.cpp).
    void ensure_network(std::function<void(Status)> then);
    void ensure_secrets(const ServiceUpdate& update, std::function<void(Result<std::vector<SecretRef>>)> then);
    void apply_spec(const std::string& name, nlohmann::json spec, std::function<void(Status)> then);
    void finish(Watched& watched, Status outcome);
    // Watching (swarm_watch.cpp).
    Watched& watch(const std::string& name, const std::string& id);
    void schedule_poll();
    void poll();
    void poll_service(const std::string& name);
    void take_tasks(Watched& watched, const nlohmann::json& tasks);
    void check_pending(Watched& watched, const nlohmann::json& service);
    void roll_back(Watched& watched, const nlohmann::json& service);  // swarm's own rollback to the previous spec
    // A stalled update (swarm_stall.cpp): undone when this engine has not recorded it deployed,
    // else started again (ForceUpdate), so that the cluster runs what this engine reports.
    void check_stall(Watched& watched, const nlohmann::json& service);
    void force_update(Watched& watched, const nlohmann::json& service);
    void route_tasks(Watched& watched);
    void follow_logs(Watched& watched);
    std::string describe_task(const std::string& service, const TaskView& task) const;
    std::string failed_tasks(const Watched& watched) const;
    int converged(const Watched& watched) const;  // tasks running the asked image

    process::AsioEventLoop& loop_;
    SwarmRuntimeOptions options_;
    SwarmNames names_;
    docker::DockerClient client_;
    EventSink emit_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::map<std::string, std::unique_ptr<Watched>> services_;
    std::map<std::string, NodeView> nodes_;  // by node ID
    bool network_ready_ = false;
    std::vector<std::function<void(Status)>> network_waiters_;  // while one look-up runs
    bool polling_ = false;
    bool poll_in_flight_ = false;
};

}  // namespace tandem::swarm
