// Supervision of one service's replicas: start, health gate, proxy routing, crash restarts
// with backoff, and the ReplicaControl side of rollouts.
#include "execute/service_supervisor.hpp"

#include <tandem/duration.hpp>

#include <atomic>
#include <limits>

namespace tandem::execute {

namespace {

std::atomic<int> next_replica_id{1};

}  // namespace

ReplicaLaunch replica_launch(const Release& release, int id) {
    ReplicaLaunch launch;
    launch.id = id;
    launch.service = release.service;
    launch.artifact = release.artifact;
    launch.cwd = release.cwd;
    launch.env = release.env;
    if (release.user) launch.user = release.user->name;
    launch.fingerprint = release.fingerprint;
    launch.pin_image = release.pin_image;
    return launch;
}

ServiceSupervisor::ServiceSupervisor(Runtime& runtime, std::string name, SupervisorHooks hooks)
    : runtime_(runtime), loop_(runtime.loop()), name_(std::move(name)), hooks_(std::move(hooks)) {
    status_.name = name_;
}

// Dropped only once stopped (Executor::stop_all, a stop action); a replica still running here
// is the runtime's to end when it closes.
ServiceSupervisor::~ServiceSupervisor() {
    for (auto& [id, replica] : replicas_)
        if (replica->monitor) replica->monitor->stop();
}

void ServiceSupervisor::post(std::function<void(ServiceSupervisor&)> task) {
    std::weak_ptr<ServiceSupervisor> weak = weak_from_this();
    loop_.post([weak, task = std::move(task)] {
        if (auto self = weak.lock()) task(*self);
    });
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

Status ServiceSupervisor::ensure_traffic(int port) {
    if (port == 0 || traffic_port_ == port) return Ok{};
    close_traffic();
    if (auto opened = runtime_.open_service(name_, port); !opened) return opened;
    traffic_port_ = port;
    status_.port = port;
    return Ok{};
}

// The connections the public port accepted and could not serve stay counted after it is closed.
void ServiceSupervisor::close_traffic() {
    if (traffic_port_ != 0) {
        const Runtime::Traffic traffic = runtime_.traffic(name_);
        status_.errors.proxy_errors += static_cast<int>(traffic.unserved);
        status_.proxy_connections += traffic.accepted;
        runtime_.close_service(name_);
    }
    traffic_port_ = 0;
    status_.port = 0;
}

void ServiceSupervisor::roll_out(Release release, int replicas, SupervisionRules rules,
                                 std::function<void(Status)> done) {
    if (runtime_.orchestrates(name_)) return hand_over(std::move(release), replicas, rules, std::move(done));
    if (auto status = ensure_traffic(release.service.port); !status) {
        status_.last_error = status.error().message;  // e.g. the public port is taken: status says so
        set_state(ServiceState::crashed, status.error().message);
        loop_.post([done, error = status.error()] { done(error); });
        return;
    }
    if (!backoff_ || rules.backoff_initial != rules_.backoff_initial || rules.backoff_max != rules_.backoff_max)
        backoff_.emplace(rules.backoff_initial, rules.backoff_max, rules.stable_after);
    abort_rollout();
    restart_timer_.cancel();  // the new release replaces whatever a pending restart would start
    previous_ = std::move(release_);
    previous_target_ = target_;
    release_ = std::move(release);
    target_ = replicas;
    rules_ = rules;
    stopping_ = false;
    status_.fingerprint = release_->fingerprint;
    status_.artifact_digest = release_->artifact.digest;
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
        loop_.post([done, name = name_] {
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
    std::weak_ptr<ServiceSupervisor> weak = weak_from_this();
    auto on_output = [weak, id](LogStream stream, std::string_view text) {
        if (auto self = weak.lock()) self->replica_output(id, stream, text);
    };
    auto on_exit = [weak, id](const ExitStatus& status) {
        if (auto self = weak.lock()) self->replica_exited(id, status);
    };
    auto info = runtime_.start_replica(replica_launch(release, id), on_output, on_exit);
    if (!info) {
        status_.last_error = info.error().message;
        emit(RuntimeEventKind::failure, "cannot start: " + info.error().message, id);
        return std::nullopt;
    }
    auto replica = std::make_unique<Replica>();
    replica->id = id;
    replica->info = *info;
    replica->fingerprint = release.fingerprint;
    replica->digest = release.artifact.digest;
    replica->started = loop_.now();
    Replica& ref = *replica;
    replicas_[id] = std::move(replica);
    emit(RuntimeEventKind::state, "replica " + std::to_string(id) + " started (" + info->handle +
                                      (info->port ? ", port " + std::to_string(info->port) : std::string()) + ")",
         id);
    watch_health(ref);
    return id;
}

void ServiceSupervisor::replica_output(int id, LogStream stream, std::string_view text) {
    if (hooks_.logs)
        hooks_.logs->append(process::LogLine{std::chrono::system_clock::now(), name_, id, stream, std::string(text)});
    emit(RuntimeEventKind::log, std::string(text), id, stream == LogStream::err);
}

int ServiceSupervisor::start_replica() {
    auto id = spawn_replica(*release_);
    if (!id) {
        const int failed = next_replica_id++;
        post([failed](ServiceSupervisor& self) {
            if (!self.rollout_) return;
            self.rollout_->replica_failed(failed, self.status_.last_error);
            self.finish_rollout_if_done();
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
    if (traffic_port_ != 0) runtime_.route(name_, id);
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
    replica.gate.cancel();
    std::weak_ptr<ServiceSupervisor> weak = weak_from_this();
    auto stopped = [weak, id] {
        auto self = weak.lock();
        if (!self) return;
        self->replicas_.erase(id);
        if (self->rollout_ && self->rollout_->state() == RolloutState::running) {
            self->rollout_->replica_stopped(id);
            self->finish_rollout_if_done();
        }
        if (self->stopping_ && self->replicas_.empty() && self->stop_done_) {
            self->close_traffic();
            self->set_state(ServiceState::stopped);
            std::exchange(self->stop_done_, {})();
        }
    };
    const Duration grace = release_ ? release_->service.stop_grace : Duration(5000);
    auto terminate = [weak, id, grace, stopped] {
        auto self = weak.lock();
        if (!self || !self->replicas_.count(id)) return;
        self->runtime_.stop_replica(id, grace, stopped);
    };
    if (replica.routed && traffic_port_ != 0) {
        replica.routed = false;
        runtime_.unroute(name_, id, drain ? rules_.rollout.drain_timeout : Duration(0), terminate);
    } else {
        terminate();
    }
}

void ServiceSupervisor::finish_rollout_if_done() {
    if (!rollout_ || rollout_->state() == RolloutState::running || !rollout_done_) return;
    const bool ok = rollout_->state() == RolloutState::succeeded;
    rolled_out_ = loop_.now();
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
        if (rules_.on_crash == CrashAction::restart) schedule_restart(loop_.now());  // a failed start is tried again
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
    status_.artifact_digest = release_->artifact.digest;
    bool serving = false;
    for (const auto& [id, replica] : replicas_) serving = serving || (replica->routed && !replica->stopping);
    status_.last_error = "the previous release serves; its update failed: " + status_.last_error;
    set_state(serving ? ServiceState::ready : ServiceState::degraded, status_.last_error);
    if (alive_replicas() < target_ && rules_.on_crash == CrashAction::restart) schedule_restart(loop_.now());
}

void ServiceSupervisor::stop_at_exit(std::function<void()> done) {
    if (handed_over_) return stop_handed_over(true, std::move(done));
    stop(std::move(done));
}

void ServiceSupervisor::stop(std::function<void()> done) {
    if (handed_over_) return stop_handed_over(false, std::move(done));
    stopping_ = true;
    stop_done_ = std::move(done);
    abort_rollout();
    restart_timer_.cancel();
    if (replicas_.empty()) {
        close_traffic();
        set_state(ServiceState::stopped);
        loop_.post(std::exchange(stop_done_, {}));
        return;
    }
    std::vector<int> ids;
    for (auto& [id, replica] : replicas_) ids.push_back(id);
    for (int id : ids) stop_replica(id, false);  // those already stopping just finish
}

ServiceStatus ServiceSupervisor::status() const {
    if (handed_over_) return handed_over_status();
    ServiceStatus out = status_;
    if (traffic_port_ != 0) {
        const Runtime::Traffic traffic = runtime_.traffic(name_);
        out.errors.proxy_errors += static_cast<int>(traffic.unserved);
        out.proxy_connections += traffic.accepted;
    }
    for (const auto& [id, replica] : replicas_) {
        ReplicaStatus r;
        r.id = id;
        r.handle = replica->info.handle;
        r.port = replica->info.port;
        r.health = replica->health;
        r.routed = replica->routed;
        r.started = std::chrono::system_clock::now() -
                    std::chrono::duration_cast<std::chrono::system_clock::duration>(loop_.now() - replica->started);
        out.replicas.push_back(r);
    }
    return out;
}

}  // namespace tandem::execute
