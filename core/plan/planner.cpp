// make_plan: admit the request, gather each service's causes, order the steps into waves.
#include "plan/actions.hpp"
#include "plan/admission.hpp"
#include "plan/changes.hpp"
#include "plan/pending_step.hpp"
#include "plan/waves.hpp"

#include <tandem/plan.hpp>

#include <algorithm>
#include <map>
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

PendingStep& pending_for(PendingSteps& pending, const ServiceSpec& service, const Observed& observed) {
    auto [it, added] = pending.try_emplace(service.name);
    if (added) {
        it->second.service = &service;
        it->second.running = observed.services.count(service.name) > 0;
    }
    return it->second;
}

std::size_t count_new(const Spec& spec, const Observed& observed, const std::set<std::string>& scope) {
    std::size_t count = 0;
    for (const ServiceSpec& service : spec.services)
        if (scope.count(service.name) && !observed.services.count(service.name)) ++count;
    return count;
}

// New services start; running ones whose spec changed are rebuilt and replaced; running ones
// whose watched files changed get what their watch rules ask for.
void add_spec_differences(PendingSteps& pending, const Spec& spec, const Observed& observed, const PolicySet& policy,
                          const PlanRequest& request, const std::set<std::string>& scope, bool bootstrap) {
    for (const ServiceSpec& service : spec.services) {
        if (!scope.count(service.name)) continue;
        const auto running = observed.services.find(service.name);
        if (running == observed.services.end()) {
            pending_for(pending, service, observed).add_rebuild(bootstrap ? "bootstrap" : "new service");
            continue;
        }
        if (running->second.fingerprint != fingerprint(spec, service))
            pending_for(pending, service, observed).add_rebuild("spec changed");
        const ChangeMatch changes = match_changes(service, request.changed_paths);
        if (!changes.empty()) pending_for(pending, service, observed).add_changes(changes, policy.updates.live);
    }
}

// Triggers and resets name their services explicitly, so they apply even outside `only`.
void add_requests(PendingSteps& pending, const Spec& spec, const Observed& observed, const PlanRequest& request) {
    for (const std::string& name : request.trigger)
        pending_for(pending, *spec.find(name), observed).add_rebuild("triggered");
    for (const std::string& name : request.reset) {
        const ServiceSpec& reset = *spec.find(name);
        pending_for(pending, reset, observed).add_reset(reset.reset->command);
        // Whatever runs on top of the wiped service restarts against its new state.
        std::set<std::string> affected{name};
        for (const ServiceSpec* service : dependency_order(spec)) {
            const bool depends = std::any_of(service->depends_on.begin(), service->depends_on.end(),
                                             [&](const std::string& d) { return affected.count(d) > 0; });
            if (!depends) continue;
            affected.insert(service->name);
            if (observed.services.count(service->name))
                pending_for(pending, *service, observed).add_restart("dependency '" + name + "' was reset");
        }
    }
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
    add_spec_differences(pending, spec, observed, policy, request, scope, decision->bootstrap);
    add_requests(pending, spec, observed, request);

    std::vector<Step> steps;
    for (const auto& [name, step] : pending)
        if (!step.empty()) steps.push_back(to_step(step, spec, policy));

    Plan plan;
    fill_header(plan, policy, request);
    plan.bootstrap = decision->bootstrap;
    plan.incident = decision->incident;
    plan.waves = arrange_waves(spec, stops_of_removed(spec, observed, request), std::move(steps),
                               policy.updates.max_parallel);
    return plan;
}

Status check_rollback_allowed(const PolicySet& policy) {
    if (policy.history.keep > 0) return Ok{};
    return make_error(ErrorCode::policy_denied, "policy '" + policy.name +
                                                    "' keeps no deployed revisions (history.keep: 0): there is "
                                                    "nothing to roll back to");
}

std::size_t Plan::action_count() const {
    std::size_t count = 0;
    for (const Wave& wave : waves)
        for (const Step& step : wave.steps) count += step.actions.size();
    return count;
}

}  // namespace tandem
