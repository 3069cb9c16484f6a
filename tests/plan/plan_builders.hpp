// Builders shared by the planner's tests: services, specs and observed states made in code.
#pragma once

#include <tandem/plan.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace tandem::test {

inline ServiceSpec service(const std::string& name, std::vector<std::string> depends_on = {}) {
    ServiceSpec s;
    s.name = name;
    s.run.argv = {"/bin/sh", "-c", "./" + name};
    s.run.shell = true;
    s.depends_on = std::move(depends_on);
    return s;
}

// A service with a build whose inputs are NAME/src/**.
inline ServiceSpec built(const std::string& name, std::vector<std::string> depends_on = {}) {
    ServiceSpec s = service(name, std::move(depends_on));
    s.build = BuildSpec{"make " + name, {name + "/src/**"}, {"out/" + name}, {}};
    return s;
}

inline Spec spec_of(std::vector<ServiceSpec> services) {
    Spec spec;
    spec.project = "shop";
    spec.file = "tandem.yaml";
    spec.services = std::move(services);
    return spec;
}

// Every listed service of `spec` running as its spec says.
inline Observed running(const Spec& spec, const std::vector<std::string>& names) {
    Observed observed;
    observed.revision = "r1";
    for (const auto& name : names) {
        const ServiceSpec* s = spec.find(name);
        REQUIRE(s != nullptr);
        observed.services[name] =
            ObservedService{name, fingerprint(spec, *s), "", s->replicas, s->replicas, ServiceState::ready, ""};
    }
    return observed;
}

// The struct's defaults: live updates, unbounded parallelism, bootstraps and resets allowed.
inline PolicySet dev_policy() {
    PolicySet policy;
    policy.name = "dev";
    return policy;
}

inline Plan plan_ok(const Spec& spec, const Observed& observed, const PlanRequest& request = {},
                    const PolicySet& policy = dev_policy()) {
    auto plan = make_plan(spec, observed, policy, request);
    REQUIRE_MESSAGE(plan.ok(), plan.error().to_string());
    return *plan;
}

}  // namespace tandem::test
