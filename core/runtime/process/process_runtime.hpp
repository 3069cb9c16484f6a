// The process runtime (tandem/process_runtime.hpp): replicas and commands as local process
// groups (ChildProcess), a TcpProxy per public port, tcp/http/exec probes, and the record of
// everything it started in replicas.json (runtime_state.hpp), all on one AsioEventLoop.
#pragma once

#include "runtime/process/asio_event_loop.hpp"
#include "runtime/process/child_process.hpp"
#include "runtime/process/health_probe.hpp"
#include "runtime/process/runtime_state.hpp"
#include "runtime/process/tcp_proxy.hpp"

#include <tandem/process_runtime.hpp>
#include <tandem/runtime.hpp>

#include <map>
#include <memory>
#include <string>

namespace tandem::process {

// How replica `launch` on `port` (0: none) is started: ${port} expanded in its command and
// env, PORT set (unless env sets it), its workdir and user.
Result<LaunchSpec> replica_launch_spec(const ReplicaLaunch& launch, int port);

// `text` with every ${port} as `port` (a replica's own, in its command, env and probe).
std::string with_port(std::string text, int port);

// A free TCP port on 127.0.0.1 below the kernel's ephemeral range.
Result<int> free_local_port();

class ProcessRuntime final : public Runtime {
public:
    explicit ProcessRuntime(ProcessRuntimeOptions options);
    ~ProcessRuntime() override;

    std::string_view name() const override { return "process"; }
    EventLoop& loop() override { return loop_; }
    AsioEventLoop& asio_loop() { return loop_; }  // what a runtime that shares its loop runs on
    Status open(EventSink emit) override;

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

private:
    struct Replica {
        std::shared_ptr<ChildProcess> child;
        ReplicaLaunch launch;
        int port = 0;
        ReplicaRecord record;
        bool stopping = false;
        std::shared_ptr<HealthProbe> probe;  // made on its first check
    };
    struct Command {
        std::shared_ptr<ChildProcess> child;
        ReplicaRecord record;
        bool killed = false;
    };

    void persist();
    void emit_failure(const std::string& text);
    void spawn_command(int id, LaunchSpec launch, const std::string& service, ActionKind kind,
                       OutputHandler output, CommandHandler finished);
    void spawn_sandboxed(int id, LaunchSpec launch, const CommandLaunch& command, OutputHandler output,
                         CommandHandler finished);
    void command_ended(int id);

    ProcessRuntimeOptions options_;
    AsioEventLoop loop_;  // first: destroyed last, after everything that runs on it
    EventSink emit_;
    std::unique_ptr<RuntimeStateFile> state_file_;
    std::map<int, Replica> replicas_;
    std::map<int, Command> commands_;
    std::map<std::string, std::unique_ptr<TcpProxy>> proxies_;
    int next_command_ = 1;
};

}  // namespace tandem::process
