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

// How a replica of `release` on `port` (0: none) is launched: ${port} expanded, PORT set.
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

}  // namespace

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
        set_state(ServiceState::crashed, status.error().message);
        asio::post(io_, [done, error = status.error()] { done(error); });
        return;
    }
    if (!backoff_ || rules.backoff_initial != rules_.backoff_initial || rules.backoff_max != rules_.backoff_max)
        backoff_.emplace(rules.backoff_initial, rules.backoff_max, rules.stable_after);
    release_ = std::move(release);
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
    replica->started = std::chrono::steady_clock::now();
    const auto now = std::chrono::system_clock::now();
    replica->record = ReplicaRecord{name_, id, (*child)->pid(), process_start_ticks((*child)->pid()), port,
                                    release.artifact_digest.empty() ? release.fingerprint : release.artifact_digest,
                                    format_utc(now)};
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

void ServiceSupervisor::route(int id) {
    auto it = replicas_.find(id);
    if (it == replicas_.end() || it->second->routed) return;
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

void ServiceSupervisor::replica_exited(int id, const ExitStatus& status) {
    auto it = replicas_.find(id);
    if (it == replicas_.end() || it->second->stopping) return;  // stop_replica's callback takes it from here
    handle_crash(*it->second, status);
}

void ServiceSupervisor::handle_crash(Replica& replica, const ExitStatus& exit) {
    const int id = replica.id;
    const auto ran_since = replica.started;
    ++status_.errors.crashes;
    status_.last_error = "replica " + std::to_string(id) + " " + exit.describe();
    status_.crash_lines.clear();
    if (hooks_.logs)
        for (const auto& line : hooks_.logs->tail(name_, 10)) status_.crash_lines.push_back(line.text);
    emit(RuntimeEventKind::crash, status_.last_error, id);
    if (replica.monitor) replica.monitor->stop();
    if (replica.gate) replica.gate->cancel();
    if (replica.routed && proxy_) proxy_->drain_backend(id, Duration(0), [] {});
    const bool in_rollout = replica.in_rollout;
    replicas_.erase(id);
    if (hooks_.replicas_changed) hooks_.replicas_changed();

    if (rollout_ && rollout_->state() == RolloutState::running) {
        rollout_->replica_failed(id, status_.last_error);
        finish_rollout_if_done();
        if (in_rollout) return;
    }
    if (stopping_ || !release_) return;
    set_state(ServiceState::crashed, status_.last_error);
    if (rules_.on_crash == CrashAction::revert) {
        emit(RuntimeEventKind::failure, "crash.on_crash is revert: not restarting; the release should be reverted");
        return;
    }
    const Duration delay = backoff_->next_delay(ran_since, std::chrono::steady_clock::now());
    ++status_.restarts;
    emit(RuntimeEventKind::state, "restarting in " + format_duration(delay) + " (crash " +
                                      std::to_string(backoff_->consecutive_crashes()) + ")");
    auto timer = std::make_shared<asio::steady_timer>(io_, delay);
    std::weak_ptr<ServiceSupervisor> weak = weak_from_this();
    timer->async_wait([weak, timer](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (ec || !self || self->stopping_ || !self->release_) return;
        if (self->rollout_ && self->rollout_->state() == RolloutState::running) return;  // a rollout replaces it
        self->spawn_replica(*self->release_);
    });
}

void ServiceSupervisor::finish_rollout_if_done() {
    if (!rollout_ || rollout_->state() == RolloutState::running || !rollout_done_) return;
    const bool ok = rollout_->state() == RolloutState::succeeded;
    // New replicas that the failed rollout left starting never take traffic.
    if (!ok) {
        std::vector<int> leftovers;
        for (auto& [id, replica] : replicas_)
            if (replica->in_rollout && !replica->routed) leftovers.push_back(id);
        for (int id : leftovers) stop_replica(id, false);
        status_.last_error = rollout_->error();
    }
    for (auto& [id, replica] : replicas_) replica->in_rollout = false;
    set_state(ok ? ServiceState::ready : ServiceState::degraded, ok ? "" : rollout_->error());
    auto done = std::exchange(rollout_done_, {});
    if (ok) done(Ok{});
    else done(make_error(ErrorCode::source, name_ + ": " + rollout_->error()));
}

void ServiceSupervisor::stop(std::function<void()> done) {
    stopping_ = true;
    stop_done_ = std::move(done);
    if (replicas_.empty()) {
        close_proxy();
        set_state(ServiceState::stopped);
        asio::post(io_, std::exchange(stop_done_, {}));
        return;
    }
    std::vector<int> ids;
    for (auto& [id, replica] : replicas_) ids.push_back(id);
    for (int id : ids) stop_replica(id, false);
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
