// Supervision of one service's replicas: start, health gate, proxy routing, crash restarts
// with backoff, and the ReplicaControl side of rollouts.
#include "runtime/process/service_supervisor.hpp"

#include <tandem/duration.hpp>

#include <atomic>
#include <limits>

namespace tandem::process {

namespace {

std::atomic<int> next_replica_id{1};

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

}  // namespace

LaunchSpec launch_spec(const Release& release, int port) {
    const std::string port_text = std::to_string(port);
    LaunchSpec launch;
    for (const auto& arg : release.service.run.argv) launch.argv.push_back(replace_all(arg, "${port}", port_text));
    bool has_port_variable = false;
    for (const auto& [key, value] : release.env) {
        launch.env.emplace_back(key, replace_all(value, "${port}", port_text));
        has_port_variable = has_port_variable || key == "PORT";
    }
    if (port != 0 && !has_port_variable) launch.env.emplace_back("PORT", port_text);
    launch.cwd = release.cwd;
    launch.user = release.user;
    return launch;
}

HealthSpec probe_spec(const HealthSpec& health, int port) {
    HealthSpec spec = health;
    for (auto& arg : spec.command) arg = replace_all(arg, "${port}", std::to_string(port));
    return spec;
}

ServiceSupervisor::ServiceSupervisor(asio::io_context& io, std::string name, SupervisorHooks hooks)
    : io_(io), name_(std::move(name)), hooks_(std::move(hooks)) {
    status_.name = name_;
}

ServiceSupervisor::~ServiceSupervisor() {
    for (auto& [id, replica] : replicas_) {
        if (replica->monitor) replica->monitor->stop();
        if (replica->child) replica->child->kill();
    }
}

void ServiceSupervisor::emit(RuntimeEventKind kind, const std::string& text, int replica, bool is_stderr) {
    if (hooks_.emit)
        hooks_.emit(RuntimeEvent{kind, name_, text, replica, is_stderr, std::chrono::system_clock::now()});
}

void ServiceSupervisor::set_state(ServiceState state, const std::string& why) {
    status_.updated = std::chrono::system_clock::now();
    if (status_.state == state) return;
    status_.state = state;
    emit(RuntimeEventKind::state, why.empty() ? to_string(state) : std::string(to_string(state)) + ": " + why);
}

Status ServiceSupervisor::ensure_proxy(int port) {
    if (port == 0 || (proxy_ && proxy_->port() == port)) return Ok{};
    close_proxy();
    TcpProxy::Options options;
    options.port = port;
    auto proxy = TcpProxy::listen(io_, options);
    if (!proxy) return proxy.error();
    proxy_ = std::move(*proxy);
    status_.port = port;
    return Ok{};
}

// The connections the proxy accepted and could not serve stay counted after it is gone.
void ServiceSupervisor::close_proxy() {
    if (proxy_) {
        status_.errors.proxy_errors += static_cast<int>(proxy_->unserved_connections());
        status_.proxy_connections += proxy_->stats().accepted;
    }
    proxy_.reset();
    status_.port = 0;
}

void ServiceSupervisor::roll_out(Release release, int replicas, SupervisionRules rules,
                                 std::function<void(Status)> done) {
    if (auto status = ensure_proxy(release.service.port); !status) {
        status_.last_error = status.error().message;  // e.g. the public port is taken: status says so
        set_state(ServiceState::crashed, status.error().message);
        asio::post(io_, [done, error = status.error()] { done(error); });
        return;
    }
    if (!backoff_ || rules.backoff_initial != rules_.backoff_initial || rules.backoff_max != rules_.backoff_max)
        backoff_.emplace(rules.backoff_initial, rules.backoff_max, rules.stable_after);
    abort_rollout();
    restart_timer_.reset();  // the new release replaces whatever a pending restart would start
    previous_ = std::move(release_);
    previous_target_ = target_;
    release_ = std::move(release);
    target_ = replicas;
    rules_ = rules;
    stopping_ = false;
    status_.fingerprint = release_->fingerprint;
    status_.artifact_digest = release_->artifact_digest;
    status_.restarts = 0;
    std::vector<int> old;
    for (auto& [id, replica] : replicas_) {
        replica->in_rollout = false;
        if (!replica->stopping) old.push_back(id);
    }
    rollout_done_ = std::move(done);
    rollout_ = make_rollout(rules_.rollout, old, replicas, *this);
    set_state(ServiceState::starting);
    rollout_->begin();
    finish_rollout_if_done();
}

// A rollout that has not ended is dropped: it starts nothing more, and whoever waits for it
// hears that it was cancelled.
void ServiceSupervisor::abort_rollout() {
    if (!rollout_ || rollout_->state() != RolloutState::running) return;
    rollout_.reset();
    if (auto done = std::exchange(rollout_done_, {}))
        asio::post(io_, [done, name = name_] {
            done(make_error(ErrorCode::cancelled, name + ": the rollout was cancelled"));
        });
}

// The release's own check before a replica of it starts (its artifact verified again); a
// failure is reported and refuses the start.
Status ServiceSupervisor::check_release(const Release& release, int id) {
    if (!release.verify) return Ok{};
    Status status = Ok{};
    try {
        status = release.verify();
    } catch (const std::exception& e) {  // a caller's verifier must not take the loop down
        status = make_error(ErrorCode::io, e.what());
    }
    if (status) return status;
    status_.last_error = status.error().message;
    emit(RuntimeEventKind::failure, "not starting replica " + std::to_string(id) + ": " + status_.last_error, id);
    return status;
}

std::optional<int> ServiceSupervisor::spawn_replica(const Release& release) {
    if (stopping_) return std::nullopt;  // nothing new starts once the service is being stopped
    const int id = next_replica_id++;
    if (!check_release(release, id)) return std::nullopt;
    int port = 0;
    if (release.service.port != 0) {
        auto free = free_local_port();
        if (!free) {
            status_.last_error = free.error().message;
            emit(RuntimeEventKind::failure, free.error().message, id);
            return std::nullopt;
        }
        port = *free;
    }
    const LaunchSpec launch = launch_spec(release, port);

    std::weak_ptr<ServiceSupervisor> weak = weak_from_this();
    auto on_line = [weak, id](LogStream stream, std::string_view text) {
        auto self = weak.lock();
        if (!self) return;
        if (self->hooks_.logs)
            self->hooks_.logs->append(LogLine{std::chrono::system_clock::now(), self->name_, id, stream, std::string(text)});
        self->emit(RuntimeEventKind::log, std::string(text), id, stream == LogStream::err);
    };
    auto on_exit = [weak, id](ExitStatus status) {
        if (auto self = weak.lock()) self->replica_exited(id, status);
    };
    auto child = ChildProcess::spawn(io_, launch, on_line, on_exit);
    if (!child) {
        status_.last_error = child.error().message;
        emit(RuntimeEventKind::failure, "cannot start: " + child.error().message, id);
        return std::nullopt;
    }
    auto replica = std::make_unique<Replica>();
    replica->id = id;
    replica->port = port;
    replica->child = *child;
    replica->fingerprint = release.fingerprint;
    replica->digest = release.artifact_digest;
    replica->started = std::chrono::steady_clock::now();
    const auto now = std::chrono::system_clock::now();
    replica->record = ReplicaRecord{name_, id, (*child)->pid(), process_start_ticks((*child)->pid()), port,
                                    release.artifact_digest.empty() ? release.fingerprint : release.artifact_digest,
                                    format_utc(now), {}};
    Replica& ref = *replica;
    replicas_[id] = std::move(replica);
    emit(RuntimeEventKind::state, "replica " + std::to_string(id) + " started (pid " +
                                      std::to_string(ref.child->pid()) +
                                      (port ? ", port " + std::to_string(port) : std::string()) + ")",
         id);
    if (hooks_.replicas_changed) hooks_.replicas_changed();
    watch_health(ref);
    return id;
}

int ServiceSupervisor::start_replica() {
    auto id = spawn_replica(*release_);
    if (!id) {
        const int failed = next_replica_id++;
        std::weak_ptr<ServiceSupervisor> weak = weak_from_this();
        asio::post(io_, [weak, failed] {
            auto self = weak.lock();
            if (!self || !self->rollout_) return;
            self->rollout_->replica_failed(failed, self->status_.last_error);
            self->finish_rollout_if_done();
        });
        return failed;
    }
    replicas_[*id]->in_rollout = true;
    return *id;
}

// A replica takes connections only once it is ready; one the rollout routes earlier (a policy
// that does not wait for health) is routed the moment it becomes ready.
void ServiceSupervisor::route(int id) {
    auto it = replicas_.find(id);
    if (it == replicas_.end() || it->second->routed || it->second->stopping) return;
    if (!it->second->ready) {
        it->second->route_wanted = true;
        return;
    }
    if (proxy_ && it->second->port) proxy_->add_backend(id, it->second->port);
    it->second->routed = true;
}

void ServiceSupervisor::retire(int id) { stop_replica(id, true); }
void ServiceSupervisor::discard(int id) { stop_replica(id, false); }

void ServiceSupervisor::stop_replica(int id, bool drain) {
    auto it = replicas_.find(id);
    if (it == replicas_.end() || it->second->stopping) return;
    Replica& replica = *it->second;
    replica.stopping = true;
    if (replica.monitor) replica.monitor->stop();
    if (replica.gate) replica.gate->cancel();
    std::weak_ptr<ServiceSupervisor> weak = weak_from_this();
    auto stopped = [weak, id] {
        auto self = weak.lock();
        if (!self) return;
        self->replicas_.erase(id);
        if (self->hooks_.replicas_changed) self->hooks_.replicas_changed();
        if (self->rollout_ && self->rollout_->state() == RolloutState::running) {
            self->rollout_->replica_stopped(id);
            self->finish_rollout_if_done();
        }
        if (self->stopping_ && self->replicas_.empty() && self->stop_done_) {
            self->close_proxy();
            self->set_state(ServiceState::stopped);
            std::exchange(self->stop_done_, {})();
        }
    };
    const Duration grace = release_ ? release_->service.stop_grace : Duration(5000);
    auto terminate = [weak, id, grace, stopped] {
        auto self = weak.lock();
        if (!self) return;
        auto found = self->replicas_.find(id);
        if (found == self->replicas_.end()) return;
        if (found->second->child && found->second->child->running()) found->second->child->stop(grace, stopped);
        else asio::post(self->io_, stopped);
    };
    if (replica.routed && proxy_) {
        replica.routed = false;
        proxy_->drain_backend(id, drain ? rules_.rollout.drain_timeout : Duration(0), terminate);
    } else {
        terminate();
    }
}

void ServiceSupervisor::finish_rollout_if_done() {
    if (!rollout_ || rollout_->state() == RolloutState::running || !rollout_done_) return;
    const bool ok = rollout_->state() == RolloutState::succeeded;
    rolled_out_ = std::chrono::steady_clock::now();
    if (ok) {
        previous_.reset();
        status_.last_error.clear();
        status_.crash_lines.clear();
    } else {
        // New replicas that the failed rollout left starting never take traffic.
        std::vector<int> leftovers;
        for (auto& [id, replica] : replicas_)
            if (replica->in_rollout && !replica->routed) leftovers.push_back(id);
        for (int id : leftovers) stop_replica(id, false);
        status_.last_error = rollout_->error();
    }
    for (auto& [id, replica] : replicas_) replica->in_rollout = false;
    auto done = std::exchange(rollout_done_, {});
    if (ok) {
        set_state(release_->service.job ? ServiceState::completed : ServiceState::ready);
        done(Ok{});
        return;
    }
    const std::string error = rollout_->error();
    if (alive_replicas() > 0) {
        keep_previous_release();
    } else {
        set_state(ServiceState::crashed, error);
        if (rules_.on_crash == CrashAction::restart) schedule_restart(std::chrono::steady_clock::now());  // a failed start is tried again
    }
    done(make_error(ErrorCode::rollout_failed, name_ + ": " + error));
}

// A failed rollout that left replicas of the previous release serving: the service is what
// they run, so status, observe() and crash restarts speak of the previous release.
void ServiceSupervisor::keep_previous_release() {
    if (previous_) {
        release_ = std::move(previous_);
        target_ = previous_target_;
        previous_.reset();
    }
    status_.fingerprint = release_->fingerprint;
    status_.artifact_digest = release_->artifact_digest;
    bool serving = false;
    for (const auto& [id, replica] : replicas_) serving = serving || (replica->routed && !replica->stopping);
    status_.last_error = "the previous release serves; its update failed: " + status_.last_error;
    set_state(serving ? ServiceState::ready : ServiceState::degraded, status_.last_error);
    if (alive_replicas() < target_ && rules_.on_crash == CrashAction::restart) schedule_restart(std::chrono::steady_clock::now());
}

void ServiceSupervisor::stop(std::function<void()> done) {
    stopping_ = true;
    stop_done_ = std::move(done);
    abort_rollout();
    restart_timer_.reset();
    if (replicas_.empty()) {
        close_proxy();
        set_state(ServiceState::stopped);
        asio::post(io_, std::exchange(stop_done_, {}));
        return;
    }
    std::vector<int> ids;
    for (auto& [id, replica] : replicas_) ids.push_back(id);
    for (int id : ids) stop_replica(id, false);  // those already stopping just finish
}

void ServiceSupervisor::kill() {
    for (auto& [id, replica] : replicas_)
        if (replica->child) replica->child->kill();
}

ServiceStatus ServiceSupervisor::status() const {
    ServiceStatus out = status_;
    if (proxy_) {
        out.errors.proxy_errors += static_cast<int>(proxy_->unserved_connections());
        out.proxy_connections += proxy_->stats().accepted;
    }
    for (const auto& [id, replica] : replicas_) {
        ReplicaStatus r;
        r.id = id;
        r.pid = replica->child ? replica->child->pid() : 0;
        r.port = replica->port;
        r.health = to_string(replica->health);
        r.routed = replica->routed;
        r.started = std::chrono::system_clock::now() - std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                                           std::chrono::steady_clock::now() - replica->started);
        out.replicas.push_back(r);
    }
    return out;
}

std::vector<ReplicaRecord> ServiceSupervisor::records() const {
    std::vector<ReplicaRecord> out;
    for (const auto& [id, replica] : replicas_) out.push_back(replica->record);
    return out;
}

}  // namespace tandem::process
