// The process runtime's replicas, traffic and probes; its commands are in process_commands.cpp.
#include "runtime/process/process_runtime.hpp"

#include <tandem/utc_time.hpp>

namespace tandem {

std::unique_ptr<Runtime> make_process_runtime(const ProcessRuntimeOptions& options) {
    return std::make_unique<process::ProcessRuntime>(options);
}

}  // namespace tandem

namespace tandem::process {

namespace {

std::string pid_handle(pid_t pid) { return "pid " + std::to_string(pid); }

}  // namespace

std::string with_port(std::string text, int port) {
    const std::string from = "${port}", to = std::to_string(port);
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

Result<LaunchSpec> replica_launch_spec(const ReplicaLaunch& replica, int port) {
    const std::string port_text = std::to_string(port);
    LaunchSpec launch;
    for (const auto& arg : replica.service.run.argv) launch.argv.push_back(with_port(arg, port));
    bool has_port_variable = false;
    for (const auto& [key, value] : replica.env) {
        launch.env.emplace_back(key, with_port(value, port));
        has_port_variable = has_port_variable || key == "PORT";
    }
    if (port != 0 && !has_port_variable) launch.env.emplace_back("PORT", port_text);
    launch.cwd = replica.cwd;
    if (!replica.user.empty()) {
        auto user = find_system_user(replica.user);
        if (!user) return user.error();
        launch.user = std::move(*user);
    }
    return launch;
}

ProcessRuntime::ProcessRuntime(ProcessRuntimeOptions options) : options_(std::move(options)) {}

ProcessRuntime::~ProcessRuntime() {
    loop_.stop_thread();
    // Children, proxies and probes go now, their loop stopped; a child still running is killed
    // with its group (a replica outlives the engine only when the engine itself is killed).
    proxies_.clear();
    replicas_.clear();
    commands_.clear();
}

Status ProcessRuntime::open(EventSink emit) {
    emit_ = std::move(emit);
    std::error_code ec;
    std::filesystem::create_directories(options_.state_dir, ec);
    if (ec)
        return make_error(ErrorCode::io, "cannot create the state directory '" + options_.state_dir.string() +
                                             "': " + ec.message());
    state_file_ = std::make_unique<RuntimeStateFile>(options_.state_dir / "replicas.json");
    auto recorded = state_file_->load();
    if (!recorded) return recorded.error();
    for (const auto& record : stop_leftovers(*recorded, options_.leftover_grace)) {
        const std::string what = record.kind.empty() ? "replica " + std::to_string(record.replica) : "the " + record.kind;
        if (emit_)
            emit_(RuntimeEvent{RuntimeEventKind::state, record.service,
                               "stopped " + what + " (pid " + std::to_string(record.pid) +
                                   ") left running by an engine that did not stop",
                               record.replica, false, std::chrono::system_clock::now()});
    }
    if (auto cleared = state_file_->save({}); !cleared) return cleared.error();
    become_subreaper();
    loop_.run_thread();
    return Ok{};
}

void ProcessRuntime::emit_failure(const std::string& text) {
    if (emit_) emit_(RuntimeEvent{RuntimeEventKind::failure, "", text, 0, true, std::chrono::system_clock::now()});
}

void ProcessRuntime::persist() {
    std::vector<ReplicaRecord> records;
    for (const auto& [id, replica] : replicas_) records.push_back(replica.record);
    for (const auto& [id, command] : commands_)
        if (command.record.pid > 0) records.push_back(command.record);  // not a sandbox's check
    if (auto saved = state_file_->save(records); !saved) emit_failure(saved.error().to_string());
}

Result<ReplicaInfo> ProcessRuntime::start_replica(const ReplicaLaunch& launch, OutputHandler output,
                                                  ExitHandler exited) {
    int port = 0;
    if (launch.service.port != 0) {
        auto free = free_local_port();
        if (!free) return free.error();
        port = *free;
    }
    auto spec = replica_launch_spec(launch, port);
    if (!spec) return spec.error();
    const int id = launch.id;
    auto on_exit = [this, id, exited](ExitStatus status) {
        auto it = replicas_.find(id);
        if (it == replicas_.end() || it->second.stopping) return;  // stop_replica's callback takes it from here
        replicas_.erase(it);
        persist();
        exited(status);
    };
    auto child = ChildProcess::spawn(loop_.io(), *spec, std::move(output), on_exit);
    if (!child) return child.error();
    const pid_t pid = (*child)->pid();
    Replica replica;
    replica.child = *child;
    replica.launch = launch;
    replica.port = port;
    replica.record = ReplicaRecord{launch.service.name, id, pid, process_start_ticks(pid), port,
                                   launch.artifact.digest.empty() ? launch.fingerprint : launch.artifact.digest,
                                   format_utc(std::chrono::system_clock::now()), {}};
    replicas_[id] = std::move(replica);
    persist();
    return ReplicaInfo{pid_handle(pid), port};
}

void ProcessRuntime::stop_replica(int id, Duration grace, std::function<void()> stopped) {
    auto it = replicas_.find(id);
    if (it == replicas_.end() || !it->second.child->running()) {
        if (it != replicas_.end()) {
            replicas_.erase(it);
            persist();
        }
        loop_.post(std::move(stopped));
        return;
    }
    it->second.stopping = true;
    it->second.child->stop(grace, [this, id, stopped = std::move(stopped)] {
        if (replicas_.erase(id) > 0) persist();
        stopped();
    });
}

void ProcessRuntime::kill_all() {
    for (auto& [id, replica] : replicas_) replica.child->kill();
    for (auto& [id, command] : commands_) command.child->kill();
}

Status ProcessRuntime::open_service(const std::string& service, int public_port) {
    TcpProxy::Options options;
    options.port = public_port;
    auto proxy = TcpProxy::listen(loop_.io(), options);
    if (!proxy) return proxy.error();
    proxies_[service] = std::move(*proxy);
    return Ok{};
}

void ProcessRuntime::close_service(const std::string& service) { proxies_.erase(service); }

void ProcessRuntime::route(const std::string& service, int replica) {
    auto proxy = proxies_.find(service);
    auto it = replicas_.find(replica);
    if (proxy == proxies_.end() || it == replicas_.end() || it->second.port == 0) return;
    proxy->second->add_backend(replica, it->second.port);
}

void ProcessRuntime::unroute(const std::string& service, int replica, Duration drain, std::function<void()> drained) {
    auto proxy = proxies_.find(service);
    if (proxy == proxies_.end()) {
        loop_.post(std::move(drained));
        return;
    }
    proxy->second->drain_backend(replica, drain, std::move(drained));
}

Runtime::Traffic ProcessRuntime::traffic(const std::string& service) const {
    auto proxy = proxies_.find(service);
    if (proxy == proxies_.end()) return {};
    return Traffic{proxy->second->stats().accepted, proxy->second->unserved_connections()};
}

// The probe runs like the replica: an exec probe with its env (PORT too), its user, in its
// workdir, and ${port} in its command as the replica's own port.
void ProcessRuntime::probe(int replica, const HealthSpec& spec, std::function<void(ProbeOutcome)> done) {
    auto it = replicas_.find(replica);
    if (it == replicas_.end()) {
        loop_.post([done] { done(ProbeOutcome{false, "the replica is gone"}); });
        return;
    }
    Replica& r = it->second;
    if (!r.probe) {
        auto launch = replica_launch_spec(r.launch, r.port);
        if (!launch) {
            loop_.post([done, why = launch.error().message] { done(ProbeOutcome{false, why}); });
            return;
        }
        HealthSpec expanded = spec;
        for (auto& arg : expanded.command) arg = with_port(arg, r.port);
        r.probe = make_probe(loop_.io(), expanded, r.port, launch->cwd, launch->env, launch->user);
    }
    r.probe->check([probe = r.probe, done](ProbeOutcome outcome) { done(std::move(outcome)); });
}

}  // namespace tandem::process
