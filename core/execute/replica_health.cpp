// Health gating of replicas: a replica is ready once its probe passes (or, without a probe, once
// its port accepts connections), within the rollout's gate timeout.
#include "execute/service_supervisor.hpp"

#include <tandem/duration.hpp>

#include <limits>

namespace tandem::execute {

// Probes a replica. A port-open check (`port_check_only`) ends once the port answers; a real
// probe keeps running and reports health changes for the whole life of the replica.
void ServiceSupervisor::start_monitor(Replica& replica, const HealthSpec& spec, bool port_check_only,
                                      std::function<void()> became_ready) {
    const int id = replica.id;
    std::weak_ptr<ServiceSupervisor> weak = weak_from_this();
    // The runtime probes the replica where it runs (an exec probe like the replica: its env, PORT,
    // its user, and ${port} as the replica's own port).
    auto check = [weak, id, spec](std::function<void(ProbeOutcome)> done) {
        auto self = weak.lock();
        if (!self) return;
        self->runtime_.probe(id, spec, std::move(done));
    };
    replica.monitor = std::make_shared<HealthMonitor>(
        loop_, spec, std::move(check), [weak, id, became_ready, port_check_only](Health h, const ProbeOutcome& last) {
            auto self = weak.lock();
            if (!self) return;
            auto it = self->replicas_.find(id);
            if (it == self->replicas_.end()) return;
            if (port_check_only) {
                if (h != Health::healthy) return;
                it->second->monitor->stop();
                if (!it->second->ready) became_ready();
                return;
            }
            it->second->health = h;
            if (h == Health::healthy) {
                it->second->was_healthy = true;
                if (!it->second->ready) became_ready();
                else if (self->status_.state == ServiceState::degraded) {
                    self->status_.last_error.clear();  // recovered: no stale error
                    self->set_state(ServiceState::ready);
                }
            } else if (h == Health::unhealthy) {
                self->status_.last_error = "replica " + std::to_string(id) + " unhealthy: " + last.detail;
                if (it->second->ready) self->set_state(ServiceState::degraded, self->status_.last_error);
            }
        });
    // Failures of the service's own probe count as errors once the replica has been healthy;
    // before that it is still starting (and a gate, if any, judges it).
    if (!port_check_only) {
        replica.monitor->on_result([weak, id](const ProbeOutcome& outcome) {
            auto self = weak.lock();
            if (outcome.ok || !self) return;
            auto it = self->replicas_.find(id);
            if (it != self->replicas_.end() && it->second->was_healthy) ++self->status_.errors.probe_failures;
        });
    }
    replica.monitor->start();
}

// Ready: the running rollout learns of it (if it waits for readiness), a replica it routed
// early goes behind the proxy now, and a replica restarted after a crash goes straight back.
void ServiceSupervisor::replica_became_ready(int id) {
    auto it = replicas_.find(id);
    if (it == replicas_.end() || it->second->ready || it->second->stopping) return;
    Replica& r = *it->second;
    r.ready = true;
    r.gate.cancel();
    if (r.route_wanted) route(id);
    if (r.in_rollout && rollout_ && rollout_->state() == RolloutState::running) {
        rollout_->replica_ready(id);
        finish_rollout_if_done();
    } else if (!r.in_rollout && !r.routed) {
        route(id);
        const bool checked = release_->service.health || r.info.port != 0;
        set_state(ServiceState::ready, "replica " + std::to_string(id) + (checked ? " is back" : " restarted"));
        status_.last_error.clear();
        status_.crash_lines.clear();
    }
}

// A replica is ready once its probe passes, or without a probe once its port accepts a
// connection, or at once when it has neither; only then does it take traffic, under every
// policy. Whether the rollout waits for that is the policy's (wait_for_health).
void ServiceSupervisor::watch_health(Replica& replica) {
    const int id = replica.id;
    std::weak_ptr<ServiceSupervisor> weak = weak_from_this();
    auto became_ready = [weak, id] {
        if (auto self = weak.lock()) self->replica_became_ready(id);
    };
    if (release_->service.job) return;  // a job is done when it exits 0 (job_completed), however long it runs
    const auto& health = release_->service.health;
    std::optional<HealthSpec> port_open;
    if (!health && replica.info.port != 0) {
        port_open.emplace();
        port_open->kind = ProbeKind::tcp;
        port_open->interval = Duration(2);
        port_open->failure_threshold = std::numeric_limits<int>::max();
    }
    const bool checked = health || port_open;
    if (checked) start_monitor(replica, health ? *health : *port_open, !health, became_ready);
    else loop_.post(became_ready);
    const bool gated = checked && (health ? rules_.wait_for_health : true);
    if (!gated) {
        // The rollout goes on without waiting; the replica is routed once it is ready.
        if (replica.in_rollout) post([id](ServiceSupervisor& self) { self.gate_passed_ungated(id); });
        return;
    }
    if (rules_.rollout.gate_timeout.count() > 0) start_gate(replica);
}

// A replica the rollout does not wait for: the rollout goes on as if it were ready.
void ServiceSupervisor::gate_passed_ungated(int id) {
    if (!rollout_ || rollout_->state() != RolloutState::running) return;
    auto it = replicas_.find(id);
    if (it == replicas_.end() || it->second->stopping || !it->second->in_rollout) return;
    rollout_->replica_ready(id);
    finish_rollout_if_done();
}

// A gated replica that is not ready within the gate timeout fails (its rollout, or it is stopped).
void ServiceSupervisor::start_gate(Replica& replica) {
    const int id = replica.id;
    std::weak_ptr<ServiceSupervisor> weak = weak_from_this();
    replica.gate.start(loop_, rules_.rollout.gate_timeout, [weak, id] {
        auto self = weak.lock();
        if (!self) return;
        auto it = self->replicas_.find(id);
        if (it == self->replicas_.end() || it->second->ready) return;
        const std::string why = "replica " + std::to_string(id) + " was not healthy within " +
                                format_duration(self->rules_.rollout.gate_timeout);
        self->status_.last_error = why;
        ++self->status_.errors.failed_gates;
        self->emit(RuntimeEventKind::failure, why, id);
        if (it->second->in_rollout && self->rollout_ && self->rollout_->state() == RolloutState::running) {
            self->rollout_->replica_failed(id, why);
            self->finish_rollout_if_done();
        } else {
            self->stop_replica(id, false);
            self->schedule_restart(self->loop_.now());
        }
    });
}

}  // namespace tandem::execute
