// One Runtime made of a runtime per kind of service: process services run on one, container
// services on the other, both on one event loop, so that one project mixes both and the
// executor, written once, drives them as one (docs/architecture.md).
#pragma once

#include <tandem/runtime.hpp>

#include <map>
#include <memory>
#include <string>

namespace tandem {

// Why a container service cannot start in a build of tandem without a container runtime,
// located at its `image:` or `build:`: what the front-ends and PerServiceRuntime report.
Error no_container_runtime(const ServiceSpec& service);

// The first container service of `spec` as that error, or Ok when it has none.
Status check_no_containers(const Spec& spec);

class PerServiceRuntime final : public Runtime {
public:
    // `process` runs process services; `container` runs container services, or is null when this
    // build has no container runtime (starting a container service then fails with
    // no_container_runtime). Both must share one event loop (the container runtime's loop() is
    // the process runtime's).
    static Result<std::unique_ptr<PerServiceRuntime>> make(std::unique_ptr<Runtime> process,
                                                           std::unique_ptr<Runtime> container);

    // "process", or both names joined by '+' ("process+docker").
    std::string_view name() const override { return name_; }
    EventLoop& loop() override { return process_->loop(); }
    Status open(EventSink emit) override;
    void use_spec(const Spec& spec) override;

    // By the kind of the launch's service.
    Result<ReplicaInfo> start_replica(const ReplicaLaunch& launch, OutputHandler output, ExitHandler exited) override;
    // By the runtime that started the replica.
    void stop_replica(int id, Duration grace, std::function<void()> stopped) override;
    void probe(int replica, const HealthSpec& spec, std::function<void(ProbeOutcome)> done) override;
    void kill_all() override;  // every runtime's
    void discard_data(std::function<void(Status)> done) override;  // every runtime's, the process one's first
    // By the service: the runtime that opened its traffic, else the one that runs it.
    Status open_service(const std::string& service, int public_port) override;
    void close_service(const std::string& service) override;
    void route(const std::string& service, int replica) override;
    void unroute(const std::string& service, int replica, Duration drain, std::function<void()> drained) override;
    Traffic traffic(const std::string& service) const override;
    // By the command's service; the id returned is this runtime's own.
    Result<int> run_command(const CommandLaunch& launch, OutputHandler output, CommandHandler finished) override;
    void kill_command(int id) override;
    // By the service.
    void sync(const SyncRequest& request, std::function<void(Status)> done) override;
    // By the service (a cluster runtime orchestrates its container services).
    bool orchestrates(const std::string& service) const override;
    void update_service(const ServiceUpdate& update, std::function<void(Status)> done) override;
    void remove_service(const std::string& service, bool detach, std::function<void()> done) override;
    std::optional<ServiceStatus> service_status(const std::string& service) const override;

private:
    PerServiceRuntime(std::unique_ptr<Runtime> process, std::unique_ptr<Runtime> container);
    // The runtime of `service` (the process runtime for a service it has not heard of), or null
    // when that is the container runtime this build lacks.
    Runtime* runtime_of(const std::string& service) const;
    Runtime* traffic_runtime(const std::string& service) const;
    Runtime* replica_runtime(int id) const;

    std::unique_ptr<Runtime> process_;
    std::unique_ptr<Runtime> container_;
    std::string name_;
    std::map<std::string, bool> containers_;            // service -> runs as a container (from use_spec and launches)
    std::map<std::string, SourceLocation> image_at_;    // service -> where its image is written
    std::map<std::string, Runtime*> traffic_;           // service -> the runtime that opened its port
    std::map<int, Runtime*> replicas_;                  // replica id -> the runtime that started it
    struct Command {
        Runtime* runtime = nullptr;
        int id = 0;  // that runtime's
    };
    std::map<int, Command> commands_;                   // this runtime's command id -> where it runs
    int next_command_ = 1;
};

}  // namespace tandem
