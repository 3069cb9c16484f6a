// PerServiceRuntime: each call goes to the runtime of the service, replica or command it
// concerns; the tables that say which are kept on the loop thread.
#include <tandem/per_service_runtime.hpp>

#include <fmt/format.h>

namespace tandem {

namespace {

Error missing_runtime(const std::string& service, const SourceLocation& image) {
    return make_error(ErrorCode::invalid_value,
                      fmt::format("service '{}' runs an image, and this runtime has no container runtime beside its process "
                                  "runtime (tandem::make_local_runtime gives both)",
                                  service),
                      image);
}

}  // namespace

Error no_container_runtime(const ServiceSpec& service) {
    return missing_runtime(service.name, service.container ? service.container->location : service.location);
}

Status check_no_containers(const Spec& spec) {
    for (const ServiceSpec& service : spec.services)
        if (service.runs_container()) return no_container_runtime(service);
    return Ok{};
}

Result<std::unique_ptr<PerServiceRuntime>> PerServiceRuntime::make(std::unique_ptr<Runtime> process,
                                                                   std::unique_ptr<Runtime> container) {
    if (!process) return make_error(ErrorCode::invalid_value, "PerServiceRuntime needs a process runtime");
    if (container && &container->loop() != &process->loop())
        return make_error(ErrorCode::invalid_value,
                          fmt::format("the '{}' runtime and the '{}' runtime must share one event loop",
                                      process->name(), container->name()));
    return std::unique_ptr<PerServiceRuntime>(new PerServiceRuntime(std::move(process), std::move(container)));
}

PerServiceRuntime::PerServiceRuntime(std::unique_ptr<Runtime> process, std::unique_ptr<Runtime> container)
    : process_(std::move(process)), container_(std::move(container)), name_(process_->name()) {
    if (container_) name_ += "+" + std::string(container_->name());
}

Status PerServiceRuntime::open(EventSink emit) {
    if (auto status = process_->open(emit); !status) return status;
    if (container_) return container_->open(std::move(emit));
    return Ok{};
}

void PerServiceRuntime::use_spec(const Spec& spec) {
    // Services that left the spec keep their entry: their stop and close_service still come.
    for (const ServiceSpec& service : spec.services) {
        containers_[service.name] = service.runs_container();
        if (service.container) image_at_[service.name] = service.container->location;
    }
    process_->use_spec(spec);
    if (container_) container_->use_spec(spec);
}

Runtime* PerServiceRuntime::runtime_of(const std::string& service) const {
    const auto kind = containers_.find(service);
    if (kind == containers_.end() || !kind->second) return process_.get();
    return container_.get();
}

Runtime* PerServiceRuntime::traffic_runtime(const std::string& service) const {
    const auto opened = traffic_.find(service);
    return opened != traffic_.end() ? opened->second : runtime_of(service);
}

Runtime* PerServiceRuntime::replica_runtime(int id) const {
    const auto replica = replicas_.find(id);
    return replica != replicas_.end() ? replica->second : process_.get();
}

Result<ReplicaInfo> PerServiceRuntime::start_replica(const ReplicaLaunch& launch, OutputHandler output,
                                                     ExitHandler exited) {
    const ServiceSpec& service = launch.service;
    containers_[service.name] = service.runs_container();
    Runtime* runtime = service.runs_container() ? container_.get() : process_.get();
    if (!runtime) return no_container_runtime(service);
    auto started = runtime->start_replica(launch, std::move(output), std::move(exited));
    if (started) replicas_[launch.id] = runtime;
    return started;
}

void PerServiceRuntime::stop_replica(int id, Duration grace, std::function<void()> stopped) {
    replica_runtime(id)->stop_replica(id, grace, [this, id, stopped = std::move(stopped)] {
        replicas_.erase(id);
        stopped();
    });
}

void PerServiceRuntime::probe(int replica, const HealthSpec& spec, std::function<void(ProbeOutcome)> done) {
    replica_runtime(replica)->probe(replica, spec, std::move(done));
}

void PerServiceRuntime::kill_all() {
    process_->kill_all();
    if (container_) container_->kill_all();
}

void PerServiceRuntime::discard_data(std::function<void(Status)> done) {
    process_->discard_data([this, done = std::move(done)](Status processes) {
        if (!processes || !container_) return done(std::move(processes));
        container_->discard_data(std::move(done));
    });
}

Status PerServiceRuntime::open_service(const std::string& service, int public_port) {
    Runtime* runtime = runtime_of(service);
    if (!runtime) return missing_runtime(service, image_at_[service]);
    if (auto status = runtime->open_service(service, public_port); !status) return status;
    traffic_[service] = runtime;
    return Ok{};
}

void PerServiceRuntime::close_service(const std::string& service) {
    if (Runtime* runtime = traffic_runtime(service)) runtime->close_service(service);
    traffic_.erase(service);
}

void PerServiceRuntime::route(const std::string& service, int replica) {
    if (Runtime* runtime = traffic_runtime(service)) runtime->route(service, replica);
}

void PerServiceRuntime::unroute(const std::string& service, int replica, Duration drain,
                                std::function<void()> drained) {
    Runtime* runtime = traffic_runtime(service);
    if (!runtime) return loop().post(std::move(drained));
    runtime->unroute(service, replica, drain, std::move(drained));
}

Runtime::Traffic PerServiceRuntime::traffic(const std::string& service) const {
    const Runtime* runtime = traffic_runtime(service);
    return runtime ? runtime->traffic(service) : Traffic{};
}

Result<int> PerServiceRuntime::run_command(const CommandLaunch& launch, OutputHandler output,
                                           CommandHandler finished) {
    Runtime* runtime = runtime_of(launch.service);
    if (!runtime) return missing_runtime(launch.service, image_at_[launch.service]);
    const int id = next_command_++;
    auto started = runtime->run_command(launch, std::move(output),
                                        [this, id, finished = std::move(finished)](const Result<ExitStatus>& how) {
                                            commands_.erase(id);
                                            finished(how);
                                        });
    if (!started) return started.error();
    commands_[id] = Command{runtime, *started};
    return id;
}

void PerServiceRuntime::kill_command(int id) {
    const auto command = commands_.find(id);
    if (command != commands_.end()) command->second.runtime->kill_command(command->second.id);
}

void PerServiceRuntime::sync(const SyncRequest& request, std::function<void(Status)> done) {
    Runtime* runtime = runtime_of(request.service);
    if (!runtime) return loop().post([done = std::move(done), error = missing_runtime(request.service, image_at_[request.service])] { done(error); });
    runtime->sync(request, std::move(done));
}

bool PerServiceRuntime::orchestrates(const std::string& service) const {
    const Runtime* runtime = runtime_of(service);
    return runtime && runtime->orchestrates(service);
}

void PerServiceRuntime::update_service(const ServiceUpdate& update, std::function<void(Status)> done) {
    const std::string& name = update.service.name;
    if (update.service.runs_container()) containers_[name] = true;
    Runtime* runtime = runtime_of(name);
    if (!runtime) return loop().post([done = std::move(done), error = missing_runtime(name, image_at_[name])] { done(error); });
    runtime->update_service(update, std::move(done));
}

void PerServiceRuntime::remove_service(const std::string& service, bool detach, std::function<void()> done) {
    Runtime* runtime = runtime_of(service);
    if (!runtime) return loop().post(std::move(done));
    runtime->remove_service(service, detach, std::move(done));
}

std::optional<ServiceStatus> PerServiceRuntime::service_status(const std::string& service) const {
    const Runtime* runtime = runtime_of(service);
    return runtime ? runtime->service_status(service) : std::nullopt;
}

}  // namespace tandem
