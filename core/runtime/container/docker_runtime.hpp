// The Docker runtime (tandem/docker_runtime.hpp): container services' replicas as containers of
// a local daemon, on the process runtime's Asio loop. Its parts: the replicas' lives
// (docker_runtime.cpp), images, one-off commands and live sync (docker_commands.cpp), traffic
// and probes (docker_traffic.cpp), names and labels (container_names.hpp).
#pragma once

#include "runtime/container/container_names.hpp"
#include "runtime/docker/docker_client.hpp"
#include "runtime/process/asio_event_loop.hpp"
#include "runtime/process/health_probe.hpp"
#include "runtime/process/process_runtime.hpp"
#include "runtime/process/tcp_proxy.hpp"

#include <tandem/docker_runtime.hpp>
#include <tandem/runtime.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tandem::container {

// How a container ended, as a process would have: 128+N is signal N (137: SIGKILL).
ExitStatus exit_status_of(int docker_code);

// Whether the runtime a callback was given by still runs (its liveness token, DockerRuntime::alive_).
inline bool live(const std::weak_ptr<bool>& alive) {
    const auto token = alive.lock();
    return token && *token;
}

class DockerRuntime final : public Runtime {
public:
    DockerRuntime(process::AsioEventLoop& loop, DockerRuntimeOptions options);
    ~DockerRuntime() override;  // removes the project network once nothing of it runs

    std::string_view name() const override { return "docker"; }
    EventLoop& loop() override { return loop_; }
    // Asks the daemon; when it answers, removes the containers a killed engine of this state
    // directory left. A daemon that does not answer is no error here: starting a container
    // service then fails, naming the service and the socket.
    Status open(EventSink emit) override;
    void use_spec(const Spec& spec) override;

    Result<ReplicaInfo> start_replica(const ReplicaLaunch& launch, OutputHandler output, ExitHandler exited) override;
    void stop_replica(int id, Duration grace, std::function<void()> stopped) override;
    void kill_all() override;

    Status open_service(const std::string& service, int public_port) override;
    void close_service(const std::string& service) override;
    void route(const std::string& service, int replica) override;
    void unroute(const std::string& service, int replica, Duration drain, std::function<void()> drained) override;
    Traffic traffic(const std::string& service) const override;

    void probe(int replica, const HealthSpec& spec, std::function<void(ProbeOutcome)> done) override;

    Result<int> run_command(const CommandLaunch& launch, OutputHandler output, CommandHandler finished) override;
    void kill_command(int id) override;
    void sync(const SyncRequest& request, std::function<void(Status)> done) override;
    // Every named volume an engine of this state directory made (docker_commands.cpp).
    void discard_data(std::function<void(Status)> done) override;

private:
    struct Replica {
        int id = 0;
        ReplicaLaunch launch;
        OutputHandler output;
        ExitHandler exited;
        std::string name;          // the container's
        std::map<std::string, std::string> env;  // as created: exec probes run with it
        std::string container;     // its ID, once created
        int host_port = 0;         // where its port is published on 127.0.0.1, once started
        std::map<int, int> published;  // every published container port -> its port on 127.0.0.1
        std::string address;       // its own address on the project network (tcp and http probes go there)
        int pid = 0;               // its main process on this machine, once started (live sync writes there)
        bool stopping = false;
        bool stop_sent = false;   // the daemon was asked to stop it: that answer finishes the stop
        bool finishing = false;   // finish_stop under way
        Duration grace{0};
        std::vector<std::function<void()>> stopped;
        std::string route_to;      // routed before its port was known: added to this proxy then
        docker::StreamHandle logs, wait;
        bool logs_ended = false;
        std::optional<int> exit_code;
        std::unique_ptr<process::HealthProbe> probe;
    };
    struct Command {
        std::string container;  // a one-off container, once created
        docker::StreamHandle stream;
        bool killed = false;
    };
    using Ready = std::function<void(Result<std::string>)>;

    void emit(RuntimeEventKind kind, const std::string& service, const std::string& text, int replica = 0);
    Status reachable(const std::string& service) const;

    // Replicas (docker_runtime.cpp).
    void create_replica(std::shared_ptr<Replica> replica, const std::string& image);
    void start_created(std::shared_ptr<Replica> replica);
    void follow_replica(std::shared_ptr<Replica> replica);
    void replica_failed(const std::shared_ptr<Replica>& replica, const Error& error);
    void replica_ended(const std::shared_ptr<Replica>& replica);
    void finish_stop(const std::shared_ptr<Replica>& replica);
    void remove_leftovers();
    docker::VolumeMount mount_of(const VolumeSpec& volume, const std::filesystem::path& cwd);
    // The proxies of the service's extra_ports, opened or closed to match `spec` (docker_traffic.cpp).
    Status ensure_extra_proxies(const std::string& service, const ServiceSpec& spec);
    void add_backends(const std::string& service, const Replica& replica);
    std::unique_ptr<process::HealthProbe> network_probe(const Replica& replica, const HealthSpec& spec);
    docker::ContainerSpec container_spec(const ReplicaLaunch& launch, const std::string& image,
                                         const std::string& name);
    // `text` with ${services.NAME.host} as a container reaches NAME: by its name on the project
    // network when it is a container, else at the host's address there, through a relay.
    std::string expand_hosts(const std::string& text);

    // Images, the network and volumes (docker_commands.cpp).
    void with_network(std::function<void(Status)> then);
    void with_volumes(const ServiceSpec& service, std::function<void(Status)> then);
    void service_image(const ServiceSpec& service, const std::filesystem::path& root, OutputHandler progress,
                       Ready ready, bool pin);
    void build_image(const ServiceSpec& service, const std::filesystem::path& root, OutputHandler progress,
                     Ready ready, docker::StreamHandle* handle = nullptr);
    void upload_synced(const std::string& service, const std::string& container, std::function<void(Status)> then);
    void run_one_off(int id, const CommandLaunch& launch, const ServiceSpec& service, OutputHandler output,
                     CommandHandler finished);
    void follow_command(const std::shared_ptr<Command>& command, const std::string& container, OutputHandler output,
                        std::function<void(int)> ended);
    void remove_volumes(const ServiceSpec& service, std::function<void(Status)> then);
    void remove_volumes(std::vector<std::string> names, std::function<void(Status)> then);

    process::AsioEventLoop& loop_;
    DockerRuntimeOptions options_;
    Names names_;
    docker::DockerClient client_;
    std::optional<Error> unreachable_;  // why the daemon did not answer at open(), if it did not
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    // Creates sent and not answered yet: the destructor waits for them, so that a container the
    // daemon makes after the engine was told to stop is still removed.
    std::shared_ptr<std::atomic<int>> creating_ = std::make_shared<std::atomic<int>>(0);
    EventSink emit_;
    std::map<std::string, ServiceSpec> services_;  // from use_spec and launches
    struct Peer {
        int port = 0;
        bool container = false;
    };
    std::map<std::string, Peer> peers_;  // every service of the spec: what ${services.NAME.host} needs
    std::string gateway_;                // the host's address on the project network
    // Process services' ports relayed from the gateway address to 127.0.0.1, for containers.
    std::map<int, std::unique_ptr<process::TcpProxy>> relays_;
    std::map<int, std::shared_ptr<Replica>> replicas_;
    std::map<int, std::shared_ptr<Command>> commands_;
    int next_command_ = 1;
    std::map<std::string, std::unique_ptr<process::TcpProxy>> proxies_;
    // A service's `extra_ports`: container port -> the proxy on its public port.
    std::map<std::string, std::map<int, std::unique_ptr<process::TcpProxy>>> extra_proxies_;
    std::map<std::string, std::string> images_;  // service -> the image ID its last build gave
    std::map<std::string, std::string> pinned_;  // image reference -> the image ID it was resolved to once
    // service -> files synced into its containers since its image was built: target -> source.
    std::map<std::string, std::map<std::string, std::filesystem::path>> synced_;
    bool network_ready_ = false;
    std::vector<std::function<void(Status)>> network_waiters_;
    std::set<std::string> volumes_made_;
};

}  // namespace tandem::container
