// The executor: a plan's waves, steps and actions carried out on a runtime.
#include "execute/plan_execution.hpp"
#include "plan/changes.hpp"

#include <algorithm>

namespace tandem::execute {

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
    // The tree is the project's root, named without a trailing separator ("/a/b", not "/a/b/").
    auto tree = context.project_root.lexically_normal();
    if (!tree.has_filename() && tree.has_relative_path()) tree = tree.parent_path();
    release.artifact = ArtifactRef{ArtifactKind::tree, action.artifact_digest, tree.string()};
    if (service.container) {
        // A container runs its image: by the image ID built or resolved ahead, else by reference
        // (resolved by the runtime; once, when pinned).
        release.artifact = ArtifactRef{ArtifactKind::image, action.artifact_digest, service.container->image};
        release.pin_image = action.pin_digest;
    }
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
    for (int command : commands_) context_.runtime->kill_command(command);
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
    auto report = [self, action, started](RuntimeEventKind kind, ActionOutcome outcome, std::string text) {
        RuntimeEvent event{kind, action.service, std::move(text), 0, kind == RuntimeEventKind::failure,
                           std::chrono::system_clock::now()};
        event.action = action.kind;
        event.outcome = outcome;
        if (outcome != ActionOutcome::started)
            event.elapsed = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started);
        self->context_.emit(event);
    };
    auto next = [self, &step, index, action, report](Status status) {
        const std::string what = to_string(action.kind);
        if (!status && self->cancelled_) {
            report(RuntimeEventKind::action, ActionOutcome::cancelled, what + " cancelled: a newer change overtook it");
            self->step_finished(status);
            return;
        }
        if (!status) {
            report(RuntimeEventKind::failure, ActionOutcome::failed, what + " failed: " + status.error().message);
            self->step_finished(status);
            return;
        }
        report(RuntimeEventKind::action, ActionOutcome::succeeded, what + " done");
        self->run_action(step, index + 1);
    };
    report(RuntimeEventKind::action, ActionOutcome::started,
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
        case ActionKind::sync: sync_files(action, next); return;
    }
}

void PlanExecution::roll_out(const Action& action, std::function<void(Status)> done) {
    const ServiceSpec* service = spec_.find(action.service);
    if (!service) {
        context_.runtime->loop().post([done, name = action.service] {
            done(make_error(ErrorCode::unknown_service, "'" + name + "' is not in the spec"));
        });
        return;
    }
    auto supervisor = context_.supervisor(action.service);
    Release release = release_for(action, spec_, *service, context_);
    if (const ServiceSetup* setup = setup_of(action.service)) apply_setup(release, *setup);
    supervisor->roll_out(std::move(release), action.replicas, supervision_rules(action, policy_), std::move(done));
}

// The runtime puts the files where its replicas read them (a container's paths, by the sync
// rules' targets); a process reads them in place, so its runtime does nothing.
void PlanExecution::sync_files(const Action& action, std::function<void(Status)> done) {
    SyncRequest request;
    request.service = action.service;
    if (const ServiceSpec* service = spec_.find(action.service)) {
        for (const std::string& path : action.paths) {
            const auto placement = sync_placement(*service, path);
            if (!placement) continue;
            request.files.push_back(SyncFile{(context_.project_root / path).lexically_normal(), placement->target});
            if (!placement->command.empty() &&
                std::find(request.commands.begin(), request.commands.end(), placement->command) == request.commands.end())
                request.commands.push_back(placement->command);
        }
    }
    context_.runtime->sync(request, std::move(done));
}

CommandLaunch PlanExecution::command_launch(const Action& action) const {
    const ServiceSpec* service = spec_.find(action.service);
    const ServiceSetup* setup = setup_of(action.service);
    CommandLaunch launch;
    launch.service = action.service;
    launch.kind = action.kind;
    launch.argv = {"/bin/sh", "-c", service ? expand_state(action.command, *service, context_.state_root) : action.command};
    launch.cwd = (context_.project_root / (service ? service->workdir : std::string("."))).lexically_normal();
    if (setup) launch.env = setup->env;
    // The build writes the engine's artifact: it runs as the engine's user.
    if (setup && setup->user && action.kind != ActionKind::build) launch.user = setup->user->name;
    if (action.kind == ActionKind::build && action.sandboxed) {
        std::error_code ec;
        CommandLaunch::Sandbox sandbox;
        sandbox.writable = fs::absolute(context_.build_root.empty() ? context_.project_root : context_.build_root, ec)
                               .lexically_normal();
        sandbox.network = service && service->build && service->build->network;
        launch.cwd = fs::absolute(launch.cwd, ec).lexically_normal();
        launch.sandbox = sandbox;
    }
    return launch;
}

void PlanExecution::run_command(const Action& action, std::function<void(Status)> done) {
    auto self = shared_from_this();
    const std::string name = action.service;
    const std::string what = to_string(action.kind);
    auto on_output = [self, name](LogStream stream, std::string_view text) {
        const auto now = std::chrono::system_clock::now();
        if (self->context_.logs) self->context_.logs->append(process::LogLine{now, name, 0, stream, std::string(text)});
        self->context_.emit(RuntimeEvent{RuntimeEventKind::log, name, std::string(text), 0,
                                         stream == LogStream::err, now});
    };
    const bool build = action.kind == ActionKind::build;
    if (build && context_.building) context_.building(name, true);
    auto on_exit = [self, done, name, what, build, command = action.command](const Result<ExitStatus>& exited) {
        if (build && self->context_.building) self->context_.building(name, false);
        if (!exited) return done(exited.error());
        const ExitStatus& status = *exited;
        if (status.clean()) done(Ok{});
        else done(make_error(build ? ErrorCode::build_failed : ErrorCode::rollout_failed,
                             what + " of '" + name + "' " + status.describe() + ": " + command));
    };
    auto started = context_.runtime->run_command(command_launch(action), on_output, on_exit);
    if (!started) {
        if (build && context_.building) context_.building(name, false);
        context_.runtime->loop().post([done, error = started.error()] { done(error); });
        return;
    }
    commands_.push_back(*started);
}

}  // namespace tandem::execute
