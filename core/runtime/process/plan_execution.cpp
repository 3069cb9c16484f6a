// The executor: a plan's waves, steps and actions carried out on the process runtime.
#include "runtime/process/plan_execution.hpp"

#include "runtime/process/build_sandbox.hpp"

namespace tandem::process {

namespace fs = std::filesystem;

SupervisionRules supervision_rules(const Action& action, const PolicySet& policy) {
    SupervisionRules rules;
    if (action.rollout) {
        rules.rollout = *action.rollout;
        rules.wait_for_health = action.rollout->health_gate;
    } else {
        // A fresh start: dependents wait until these replicas are healthy, not merely started.
        rules.rollout.strategy = RolloutStrategy::recreate;
        rules.rollout.max_unavailable = 1;
        rules.rollout.health_gate = true;
        rules.rollout.gate_timeout = policy.rollout.gate_timeout;
        rules.wait_for_health = true;
    }
    rules.on_crash = action.on_crash;
    // Whoever applies plans reverts a crash within the automatic revert's window; later crashes
    // are restarted like any other.
    if (policy.auto_revert.enabled) rules.revert_window = policy.auto_revert.window;
    rules.backoff_initial = policy.crash.backoff_initial;
    rules.backoff_max = policy.crash.backoff_max;
    rules.stable_after = policy.crash.stable_after;
    return rules;
}

Release make_release(const Spec& spec, const ServiceSpec& service, const std::filesystem::path& project_root) {
    Release release;
    release.service = service;
    release.env = expand_env(spec, service);
    release.cwd = (project_root / service.workdir).lexically_normal();
    release.fingerprint = fingerprint(spec, service);
    return release;
}

Release release_for(const Action& action, const Spec& spec, const ServiceSpec& service,
                    const ExecutionContext& context) {
    Release release = make_release(spec, service, context.project_root);
    release.artifact_digest = action.artifact_digest;
    if (!action.artifact_digest.empty() && context.verify_artifact) {
        release.verify = [verify = context.verify_artifact, name = service.name, digest = action.artifact_digest] {
            return verify(name, digest);
        };
    }
    return release;
}

PlanExecution::PlanExecution(ExecutionContext context, Spec spec, PolicySet policy, Plan plan,
                             std::function<void(Status)> done)
    : context_(std::move(context)), spec_(std::move(spec)), policy_(std::move(policy)), plan_(std::move(plan)),
      done_(std::move(done)) {}

void PlanExecution::begin() {
    if (auto status = set_up_services(); !status) failure_ = status.error();
    start_wave();
}

void PlanExecution::cancel() {
    if (cancelled_) return;
    cancelled_ = true;
    if (!failure_) failure_ = make_error(ErrorCode::cancelled, "cancelled: a newer change overtook this update");
    for (auto& command : commands_)
        if (command->running()) command->kill();
    // Rollouts under way carry on by themselves; the caller need not wait for them.
    if (auto done = std::exchange(done_, {})) done(*failure_);
}

void PlanExecution::start_wave() {
    if (failure_ || wave_ >= plan_.waves.size()) {
        auto done = std::exchange(done_, {});
        if (!done) return;  // reported already (cancelled)
        if (failure_) done(*failure_);
        else done(Ok{});
        return;
    }
    next_step_ = 0;
    start_steps();
}

void PlanExecution::start_steps() {
    const auto& steps = plan_.waves[wave_].steps;
    const int limit = plan_.max_parallel > 0 ? plan_.max_parallel : static_cast<int>(steps.size());
    while (!failure_ && next_step_ < steps.size() && running_ < limit) {
        ++running_;
        run_action(steps[next_step_++], 0);
    }
    if (running_ == 0) {
        ++wave_;
        start_wave();
    }
}

void PlanExecution::step_finished(const Status& status) {
    if (!status && !failure_) failure_ = status.error();
    --running_;
    start_steps();
}

void PlanExecution::run_action(const Step& step, std::size_t index) {
    if (index >= step.actions.size()) {
        step_finished(Ok{});
        return;
    }
    const Action& action = step.actions[index];
    if (cancelled_) {
        step_finished(*failure_);
        return;
    }
    auto self = shared_from_this();
    const auto started = std::chrono::steady_clock::now();
    // One event per change of the action: its text for people, its fields for programs (metrics).
    auto report = [self, action, started](RuntimeEventKind kind, const std::string& outcome, std::string text) {
        RuntimeEvent event{kind, action.service, std::move(text), 0, kind == RuntimeEventKind::failure,
                           std::chrono::system_clock::now()};
        event.action = to_string(action.kind);
        event.outcome = outcome;
        if (outcome != "started")
            event.elapsed = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started);
        self->context_.emit(event);
    };
    auto next = [self, &step, index, action, report](Status status) {
        const std::string what = to_string(action.kind);
        if (!status && self->cancelled_) {
            report(RuntimeEventKind::action, "cancelled", what + " cancelled: a newer change overtook it");
            self->step_finished(status);
            return;
        }
        if (!status) {
            report(RuntimeEventKind::failure, "failed", what + " failed: " + status.error().message);
            self->step_finished(status);
            return;
        }
        report(RuntimeEventKind::action, "succeeded", what + " done");
        self->run_action(step, index + 1);
    };
    report(RuntimeEventKind::action, "started",
           std::string(to_string(action.kind)) + (action.reason.empty() ? "" : " (" + action.reason + ")"));
    switch (action.kind) {
        case ActionKind::build:
        case ActionKind::run: run_command(action, next); return;
        case ActionKind::reset: reset_service(action, next); return;
        case ActionKind::start:
        case ActionKind::replace: roll_out(action, next); return;
        case ActionKind::stop: {
            auto supervisor = context_.supervisor(action.service);
            supervisor->stop([self, name = action.service, next] {
                self->context_.forget(name);
                next(Ok{});
            });
            return;
        }
        case ActionKind::sync: asio::post(*context_.io, [next] { next(Ok{}); }); return;
    }
}

void PlanExecution::roll_out(const Action& action, std::function<void(Status)> done) {
    const ServiceSpec* service = spec_.find(action.service);
    if (!service) {
        asio::post(*context_.io, [done, name = action.service] {
            done(make_error(ErrorCode::unknown_service, "'" + name + "' is not in the spec"));
        });
        return;
    }
    auto supervisor = context_.supervisor(action.service);
    Release release = release_for(action, spec_, *service, context_);
    if (const ServiceSetup* setup = setup_of(action.service)) apply_setup(release, *setup);
    supervisor->roll_out(std::move(release), action.replicas, supervision_rules(action, policy_), std::move(done));
}

LaunchSpec PlanExecution::command_launch(const Action& action) const {
    const ServiceSpec* service = spec_.find(action.service);
    const ServiceSetup* setup = setup_of(action.service);
    LaunchSpec launch;
    launch.argv = {"/bin/sh", "-c", service ? expand_state(action.command, *service, context_.state_root) : action.command};
    launch.cwd = (context_.project_root / (service ? service->workdir : std::string("."))).lexically_normal();
    if (setup) launch.env = setup->env;
    if (setup && action.kind != ActionKind::build) launch.user = setup->user;  // the build writes the engine's artifact
    return launch;
}

void PlanExecution::run_command(const Action& action, std::function<void(Status)> done) {
    LaunchSpec launch = command_launch(action);
    if (action.kind == ActionKind::build && action.sandboxed) {
        run_sandboxed(action, std::move(launch), std::move(done));
        return;
    }
    spawn_command(action, std::move(launch), std::move(done));
}

void PlanExecution::run_sandboxed(const Action& action, LaunchSpec launch, std::function<void(Status)> done) {
    const ServiceSpec* service = spec_.find(action.service);
    std::error_code ec;
    SandboxRules rules;
    rules.writable = fs::absolute(context_.build_root.empty() ? context_.project_root : context_.build_root, ec)
                         .lexically_normal();
    rules.cwd = fs::absolute(launch.cwd, ec).lexically_normal();
    rules.network = service && service->build && service->build->network;
    // First the sandbox alone around /bin/true: when bubblewrap cannot make it here, the build
    // fails with bwrap's reason, and never runs outside it.
    LaunchSpec probe = launch;
    probe.argv = sandboxed_argv({"/bin/true"}, rules);
    auto reasons = std::make_shared<std::vector<std::string>>();
    auto on_line = [reasons](LogStream stream, std::string_view text) {
        if (stream == LogStream::err && reasons->size() < 4) reasons->emplace_back(text);
    };
    auto self = shared_from_this();
    auto on_exit = [self, action, launch, rules, reasons, done](ExitStatus status) mutable {
        if (self->cancelled_) return done(*self->failure_);
        if (!status.clean()) return done(sandbox_failed(action.service, status, *reasons));
        launch.argv = sandboxed_argv(launch.argv, rules);
        self->spawn_command(action, std::move(launch), std::move(done));
    };
    auto child = ChildProcess::spawn(*context_.io, probe, on_line, on_exit);
    if (!child) {
        asio::post(*context_.io, [done, error = sandbox_unavailable(action.service, child.error())] { done(error); });
        return;
    }
    commands_.push_back(*child);
}

void PlanExecution::spawn_command(const Action& action, LaunchSpec launch, std::function<void(Status)> done) {
    auto self = shared_from_this();
    const std::string name = action.service;
    const std::string what = to_string(action.kind);
    auto on_line = [self, name](LogStream stream, std::string_view text) {
        const auto now = std::chrono::system_clock::now();
        if (self->context_.logs) self->context_.logs->append(LogLine{now, name, 0, stream, std::string(text)});
        self->context_.emit(RuntimeEvent{RuntimeEventKind::log, name, std::string(text), 0,
                                         stream == LogStream::err, now});
    };
    const bool build = action.kind == ActionKind::build;
    if (build && context_.building) context_.building(name, true);
    auto started = std::make_shared<pid_t>(0);
    auto on_exit = [self, done, name, what, build, started, command = action.command](ExitStatus status) {
        if (build && self->context_.building) self->context_.building(name, false);
        if (*started > 0 && self->context_.command_ended) self->context_.command_ended(*started);
        if (status.clean()) done(Ok{});
        else done(make_error(build ? ErrorCode::build_failed : ErrorCode::rollout_failed,
                             what + " of '" + name + "' " + status.describe() + ": " + command));
    };
    launch.die_with_engine = true;  // a replica outlives the engine until the next start; a command need not
    auto child = ChildProcess::spawn(*context_.io, launch, on_line, on_exit);
    if (!child) {
        asio::post(*context_.io, [done, error = child.error()] { done(error); });
        return;
    }
    *started = (*child)->pid();
    if (context_.command_started) {
        ReplicaRecord record;
        record.service = name;
        record.pid = *started;
        record.start_ticks = process_start_ticks(*started);
        record.kind = what;
        context_.command_started(record);
    }
    commands_.push_back(*child);  // alive until the plan is done; a ChildProcess kills its group when destroyed
}

}  // namespace tandem::process
