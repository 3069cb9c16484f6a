// make_plan: admit the request, gather each service's causes, order the steps into waves.
#include "plan/actions.hpp"
#include "plan/admission.hpp"
#include "plan/changes.hpp"
#include "plan/pending_step.hpp"
#include "plan/waves.hpp"

#include <tandem/plan.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace tandem {

namespace {

using PendingSteps = std::map<std::string, PendingStep>;

// request.only and everything it depends on, transitively; every service when it is empty.
std::set<std::string> services_in_scope(const Spec& spec, const PlanRequest& request) {
    std::set<std::string> scope;
    if (request.only.empty()) {
        for (const ServiceSpec& service : spec.services) scope.insert(service.name);
        return scope;
    }
    std::vector<std::string> queue(request.only.begin(), request.only.end());
    while (!queue.empty()) {
        const std::string name = queue.back();
        queue.pop_back();
        const ServiceSpec* service = spec.find(name);
        if (!service || !scope.insert(name).second) continue;
        queue.insert(queue.end(), service->depends_on.begin(), service->depends_on.end());
    }
    return scope;
}

// What make_plan reads besides the policy, passed along together.
struct PlanInputs {
    const Spec& spec;
    const Observed& observed;
    const PlanRequest& request;
};

PendingStep& pending_for(PendingSteps& pending, const ServiceSpec& service, const PlanInputs& in) {
    auto [it, added] = pending.try_emplace(service.name);
    if (added) {
        it->second.service = &service;
        it->second.running = in.observed.services.count(service.name) > 0;
        if (auto artifact = in.request.artifacts.find(service.name); artifact != in.request.artifacts.end())
            it->second.artifact_digest = artifact->second;
    }
    return it->second;
}

// A running service whose artifact differs from the one built ahead of the plan: its reason,
// "artifact sha256:1a2b3c4d → sha256:5e6f7a8b"; nothing when it runs that one already.
std::optional<std::string> artifact_change(const std::string& name, const ObservedService& running,
                                           const PlanRequest& request) {
    const auto artifact = request.artifacts.find(name);
    if (artifact == request.artifacts.end() || artifact->second == running.artifact_digest) return std::nullopt;
    return fmt::format("artifact {} → {}", short_digest(running.artifact_digest), short_digest(artifact->second));
}

std::size_t count_new(const Spec& spec, const Observed& observed, const std::set<std::string>& scope) {
    std::size_t count = 0;
    for (const ServiceSpec& service : spec.services)
        if (scope.count(service.name) && !observed.services.count(service.name)) ++count;
    return count;
}

// New services start; running ones whose spec changed are rebuilt and replaced, and so are
// those running another artifact than the one built ahead; running ones whose watched files
// changed get what their watch rules ask for.
void add_spec_differences(PendingSteps& pending, const PlanInputs& in, const PolicySet& policy,
                          const std::set<std::string>& scope, bool bootstrap) {
    const ChangedPathIndex changed(in.request.changed_paths);
    for (const ServiceSpec& service : in.spec.services) {
        if (!scope.count(service.name)) continue;
        const auto running = in.observed.services.find(service.name);
        if (running == in.observed.services.end()) {
            pending_for(pending, service, in).add_rebuild(bootstrap ? "bootstrap" : "new service");
            continue;
        }
        if (running->second.fingerprint != fingerprint(in.spec, service))
            pending_for(pending, service, in).add_rebuild("spec changed");
        if (auto change = artifact_change(service.name, running->second, in.request))
            pending_for(pending, service, in).add_restart(*change);
        const ChangeMatch changes = match_changes(service, changed);
        if (!changes.empty()) pending_for(pending, service, in).add_changes(changes, policy.updates.live, in.request.files_in_place);
    }
}

// Triggers and resets name their services explicitly, so they apply even outside `only`.
void add_requests(PendingSteps& pending, const PlanInputs& in) {
    for (const std::string& name : in.request.trigger)
        pending_for(pending, *in.spec.find(name), in).add_rebuild("triggered");
    for (const std::string& name : in.request.reset) {
        const ServiceSpec& reset = *in.spec.find(name);
        pending_for(pending, reset, in).add_reset(reset.reset ? reset.reset->command : std::string());
        // Whatever runs on top of the wiped service restarts against its new state.
        std::set<std::string> affected{name};
        for (const ServiceSpec* service : dependency_order(in.spec)) {
            const bool depends = std::any_of(service->depends_on.begin(), service->depends_on.end(),
                                             [&](const std::string& d) { return affected.count(d) > 0; });
            if (!depends) continue;
            affected.insert(service->name);
            if (in.observed.services.count(service->name))
                pending_for(pending, *service, in).add_restart(fmt::format("dependency '{}' was reset", name));
        }
    }
}

// New services whose dependency runs but does not serve are held back, and so is whatever
// depends on them: starting them on top of nothing only makes them crash. The plan says why.
std::vector<Waiting> hold_dependents(PendingSteps& pending, const PlanInputs& in) {
    std::vector<Waiting> waiting;
    std::map<std::string, std::string> held;  // service -> why
    for (const ServiceSpec* service : dependency_order(in.spec)) {
        auto step = pending.find(service->name);
        if (step == pending.end() || step->second.running || !step->second.launch) continue;
        for (const std::string& dependency : service->depends_on) {
            std::string why;
            if (auto it = held.find(dependency); it != held.end()) {
                why = fmt::format("'{}' waits too: {}", dependency, it->second);
            } else {
                const auto observed = in.observed.services.find(dependency);
                const auto dependency_step = pending.find(dependency);
                const bool relaunched = dependency_step != pending.end() && dependency_step->second.launch;
                if (observed == in.observed.services.end() || relaunched || observed->second.serving()) continue;
                why = fmt::format("'{}' is {}{}", dependency, to_string(observed->second.state),
                                  observed->second.last_error.empty() ? "" : ": " + observed->second.last_error);
            }
            held.emplace(service->name, why);
            waiting.push_back(Waiting{service->name, dependency, why});
            pending.erase(step);
            break;
        }
    }
    return waiting;
}

std::vector<Step> stops_of_removed(const Spec& spec, const Observed& observed, const PlanRequest& request) {
    std::vector<Step> stops;
    if (!request.only.empty()) return stops;  // a limited plan touches only what it names
    for (const auto& [name, running] : observed.services) {
        if (spec.find(name)) continue;
        stops.push_back(Step{name, {stop_action(name, "removed from the spec")}});
    }
    return stops;
}

Status admit(const Spec& spec, const PolicySet& policy, const PlanRequest& request) {
    if (auto status = check_request_names(spec, request); !status) return status;
    if (auto status = check_roles(spec, policy); !status) return status;
    if (auto status = check_bind_mounts(spec, policy); !status) return status;
    return check_resets(spec, policy, request);
}

void fill_header(Plan& plan, const PolicySet& policy, const PlanRequest& request) {
    plan.policy = policy.name;
    plan.revision = request.revision;
    plan.max_parallel = policy.updates.max_parallel;
    if (policy.audit.enabled) plan.audit_path = policy.audit.path;
    plan.history_keep = policy.history.keep;
}

}  // namespace

Result<Plan> make_plan(const Spec& spec, const Observed& observed, const PolicySet& policy,
                       const PlanRequest& request) {
    if (auto status = admit(spec, policy, request); !status) return status.error();
    const auto scope = services_in_scope(spec, request);
    const auto decision = decide_bootstrap(observed, count_new(spec, observed, scope), policy, request);
    if (!decision) return decision.error();

    PendingSteps pending;
    const PlanInputs inputs{spec, observed, request};
    add_spec_differences(pending, inputs, policy, scope, decision->bootstrap);
    add_requests(pending, inputs);
    auto waiting = hold_dependents(pending, inputs);

    std::vector<Step> steps;
    for (const auto& [name, step] : pending)
        if (!step.empty()) steps.push_back(to_step(step, spec, policy));

    Plan plan;
    fill_header(plan, policy, request);
    plan.bootstrap = decision->bootstrap;
    plan.incident = decision->incident;
    plan.waiting = std::move(waiting);
    plan.waves = arrange_waves(spec, stops_of_removed(spec, observed, request), std::move(steps),
                               policy.updates.max_parallel);
    return plan;
}

Status check_rollback_allowed(const PolicySet& policy) {
    if (policy.history.keep > 0) return Ok{};
    return make_error(
        ErrorCode::policy_denied,
        fmt::format("policy '{}' keeps no deployed revisions (history.keep: 0): there is nothing to roll back to",
                    policy.name));
}

std::size_t Plan::action_count() const {
    std::size_t count = 0;
    for (const Wave& wave : waves)
        for (const Step& step : wave.steps) count += step.actions.size();
    return count;
}

}  // namespace tandem
