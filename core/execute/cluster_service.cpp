// A service whose runtime orchestrates it (a cluster such as Docker Swarm): the supervisor hands
// each release over whole, with the policy's rules, and reports what the cluster says it runs.
// No replica of the service is started, probed, routed or restarted here.
#include "execute/service_supervisor.hpp"

namespace tandem::execute {

void ServiceSupervisor::hand_over(Release release, int replicas, SupervisionRules rules,
                                  std::function<void(Status)> done) {
    handed_over_ = true;
    stopping_ = false;
    ServiceUpdate update;
    update.service = release.service;
    update.artifact = release.artifact;
    update.env = release.env;
    update.cwd = release.cwd;
    update.fingerprint = release.fingerprint;
    update.replicas = replicas;
    update.rollout = rules.rollout;
    update.monitor = rules.revert_window;
    update.restart_delay = rules.backoff_initial;
    std::weak_ptr<ServiceSupervisor> weak = weak_from_this();
    update.output = [weak](LogStream stream, std::string_view line) {
        if (auto self = weak.lock()) self->replica_output(0, stream, line);
    };
    rules_ = rules;
    previous_ = std::move(release_);
    previous_target_ = target_;
    release_ = std::move(release);
    target_ = replicas;
    status_.fingerprint = release_->fingerprint;
    status_.artifact_digest = release_->artifact.digest;
    status_.port = release_->service.port;
    status_.last_error.clear();
    set_state(ServiceState::starting);
    const int handover = ++handover_;
    runtime_.update_service(update, [weak, handover, done = std::move(done)](Status outcome) {
        auto self = weak.lock();
        if (!self || handover != self->handover_) {
            if (outcome) outcome = make_error(ErrorCode::cancelled, "a newer update of the service overtook this one");
            return done(outcome);
        }
        self->rolled_out_ = self->loop_.now();
        if (outcome) {
            self->set_state(ServiceState::ready);
        } else {
            self->status_.last_error = outcome.error().message;
            // The cluster undid the update: what runs is the previous release, if there was one,
            // and the service is as ready as the cluster says (status()); else nothing runs.
            const bool kept = self->previous_.has_value();
            if (kept) {
                self->status_.fingerprint = self->previous_->fingerprint;
                self->status_.artifact_digest = self->previous_->artifact.digest;
                self->release_ = std::move(self->previous_);
                self->target_ = self->previous_target_;
                self->previous_.reset();
            }
            self->set_state(kept ? ServiceState::ready : ServiceState::crashed, outcome.error().message);
        }
        done(outcome);
    });
}

void ServiceSupervisor::stop_handed_over(bool detach, std::function<void()> done) {
    stopping_ = true;
    ++handover_;  // an update under way no longer reports here
    std::weak_ptr<ServiceSupervisor> weak = weak_from_this();
    runtime_.remove_service(name_, detach, [weak, done = std::move(done)] {
        if (auto self = weak.lock()) {
            self->handed_over_ = false;
            self->set_state(ServiceState::stopped);
        }
        done();
    });
}

// The cluster's replicas, health and errors; this engine's state of the update (starting while it
// runs, crashed when it failed) unless the cluster says the service is short of replicas.
ServiceStatus ServiceSupervisor::handed_over_status() const {
    ServiceStatus out = status_;
    const auto cluster = runtime_.service_status(name_);
    if (!cluster) return out;
    out.replicas = cluster->replicas;
    out.errors = cluster->errors;
    out.proxy_connections = cluster->proxy_connections;
    out.restarts = cluster->restarts;
    if (cluster->port != 0) out.port = cluster->port;
    if (out.last_error.empty()) out.last_error = cluster->last_error;
    out.crash_lines = cluster->crash_lines;
    if (status_.state == ServiceState::ready && cluster->state != ServiceState::ready) out.state = cluster->state;
    return out;
}

}  // namespace tandem::execute
