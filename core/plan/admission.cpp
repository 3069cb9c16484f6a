// The planner's refusals: unknown names, wildcard roles, bind mounts, database resets and bootstraps.
#include "plan/admission.hpp"

#include "support/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

namespace tandem {

namespace {

// A container service's named volumes are its state: a reset empties them.
bool has_named_volume(const ServiceSpec& service) {
    if (!service.container) return false;
    for (const VolumeSpec& volume : service.container->volumes)
        if (volume.kind == VolumeSpec::Kind::named) return true;
    return false;
}

Status check_names(const Spec& spec, const std::vector<std::string>& names, const char* verb) {
    for (const std::string& name : names) {
        if (spec.find(name)) continue;
        std::vector<std::string_view> known;
        for (const ServiceSpec& service : spec.services) known.push_back(service.name);
        const std::string in_file = spec.file.empty() ? "the spec" : spec.file;
        return make_error(ErrorCode::unknown_service, fmt::format("cannot {} '{}': {} has no such service{}", verb,
                                                                  name, in_file, did_you_mean(name, known)));
    }
    return Ok{};
}

}  // namespace

Status check_request_names(const Spec& spec, const PlanRequest& request) {
    if (auto status = check_names(spec, request.reset, "reset"); !status) return status;
    if (auto status = check_names(spec, request.trigger, "trigger"); !status) return status;
    std::vector<std::string> prebuilt;
    for (const auto& [name, digest] : request.artifacts) prebuilt.push_back(name);
    if (auto status = check_names(spec, prebuilt, "use an artifact for"); !status) return status;
    return check_names(spec, request.only, "limit the plan to");
}

Status check_roles(const Spec& spec, const PolicySet& policy) {
    if (!policy.security.deny_wildcards) return Ok{};
    for (const AccessRole& role : spec.roles) {
        if (std::find(role.actions.begin(), role.actions.end(), "*") == role.actions.end()) continue;
        return make_error(ErrorCode::policy_denied,
                          fmt::format("access role '{}' grants \"*\", which policy '{}' refuses "
                                      "(security.deny_wildcards): list the actions the role may take instead",
                                      role.name, policy.name),
                          role.location);
    }
    return Ok{};
}

Status check_bind_mounts(const Spec& spec, const PolicySet& policy) {
    if (policy.containers.bind_mounts == Permission::allow) return Ok{};
    for (const ServiceSpec& service : spec.services) {
        if (!service.container) continue;
        for (const VolumeSpec& volume : service.container->volumes) {
            if (volume.kind != VolumeSpec::Kind::bind) continue;
            return make_error(ErrorCode::policy_denied,
                              fmt::format("service '{}' mounts the host directory '{}' (volume '{}'), which policy '{}' "
                                          "refuses (containers.bind_mounts: deny): its containers see only their "
                                          "image and named volumes; use a named volume (NAME:{}) or build the files "
                                          "into the image",
                                          service.name, volume.source, volume.text, policy.name, volume.target),
                              volume.location);
        }
    }
    return Ok{};
}

Status check_resets(const Spec& spec, const PolicySet& policy, const PlanRequest& request) {
    if (request.reset.empty()) return Ok{};
    if (policy.database.reset == Permission::deny) {
        std::string names;
        for (const std::string& name : request.reset) names += fmt::format("{}{}'", names.empty() ? "'" : ", '", name);
        const char* noun = request.reset.size() == 1 ? "service " : "services ";
        const char* verb = request.reset.size() == 1 ? " was" : " were";
        return make_error(ErrorCode::policy_denied,
                          fmt::format("policy '{}' denies database.reset: {}{}{} not reset; nothing was touched",
                                      policy.name, noun, names, verb));
    }
    for (const std::string& name : request.reset) {
        const ServiceSpec* service = spec.find(name);
        if (service && (service->reset || !service->state.empty() || has_named_volume(*service))) continue;
        return make_error(ErrorCode::invalid_value,
                          fmt::format("cannot reset '{}': its spec has no `reset:` command to run and no `state:` or "
                                      "named volume to empty",
                                      name),
                          service ? service->location : SourceLocation{});
    }
    return Ok{};
}

Result<BootstrapDecision> decide_bootstrap(const Observed& observed, std::size_t starting, const PolicySet& policy,
                                           const PlanRequest& request) {
    BootstrapDecision decision;
    if (!observed.empty() || starting == 0) return decision;
    decision.bootstrap = true;
    if (policy.bootstrap.from_scratch == BootstrapRule::allow) return decision;
    if (!request.bootstrap) {
        const std::string count = fmt::format("{} {}", starting, starting == 1 ? "service" : "services");
        return make_error(ErrorCode::bootstrap_required,
                          fmt::format("nothing is running: bringing up all {} from scratch under policy '{}' needs "
                                      "--bootstrap (it is recorded as an incident)",
                                      count, policy.name));
    }
    decision.incident = true;
    return decision;
}

}  // namespace tandem
