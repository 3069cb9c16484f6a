// The planner's refusals: requests naming unknown services, and what the policy forbids.
// Each check either passes or refuses the whole plan, before anything is planned.
#pragma once

#include <tandem/plan.hpp>

#include <cstddef>

namespace tandem {

// Every name in request.reset, request.trigger, request.artifacts and request.only is a service
// of the spec.
Status check_request_names(const Spec& spec, const PlanRequest& request);

// security.deny_wildcards: no access role may grant "*".
Status check_roles(const Spec& spec, const PolicySet& policy);

// containers.bind_mounts: under deny, no container service mounts a host directory.
Status check_bind_mounts(const Spec& spec, const PolicySet& policy);

// database.reset, and that each service to reset says how (`reset:` in its spec).
Status check_resets(const Spec& spec, const PolicySet& policy, const PlanRequest& request);

struct BootstrapDecision {
    bool bootstrap = false;  // nothing runs and `starting` services are to come up
    bool incident = false;   // ... and the policy needed the explicit flag for it
};

// bootstrap.from_scratch: bringing `starting` services up when nothing runs at all.
Result<BootstrapDecision> decide_bootstrap(const Observed& observed, std::size_t starting, const PolicySet& policy,
                                           const PlanRequest& request);

}  // namespace tandem
