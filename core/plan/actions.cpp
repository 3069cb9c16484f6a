// Builds each kind of action from a service spec and the knobs of the policy set.
#include "plan/actions.hpp"

#include "plan/changes.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace tandem {

namespace {

std::string upper(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

RolloutParams rollout_params(const PolicySet& policy) {
    RolloutParams params;
    params.strategy = policy.rollout.strategy;
    params.max_surge = policy.rollout.max_surge;
    params.max_unavailable = policy.rollout.max_unavailable;
    params.health_gate = policy.rollout.health_gate;
    params.gate_timeout = policy.rollout.gate_timeout;
    params.drain_timeout = policy.rollout.drain_timeout;
    return params;
}

Action base_action(ActionKind kind, const std::string& service, std::string reason, std::vector<std::string> paths) {
    Action action;
    action.kind = kind;
    action.service = service;
    action.reason = std::move(reason);
    action.paths = std::move(paths);
    return action;
}

}  // namespace

bool looks_secret(std::string_view key) {
    static constexpr std::array<std::string_view, 5> markers = {"PASSWORD", "SECRET", "TOKEN", "KEY", "CREDENTIAL"};
    const std::string name = upper(key);
    return std::any_of(markers.begin(), markers.end(),
                       [&](std::string_view marker) { return name.find(marker) != std::string::npos; });
}

EnvList visible_env(const Spec& spec, const ServiceSpec& service, const PolicySet& policy) {
    EnvList env = expand_env(spec, service);
    if (policy.security.strict) {
        for (auto& [key, value] : env)
            if (looks_secret(key)) value = "<redacted>";
    }
    return env;
}

Action build_action(const ServiceSpec& service, const PolicySet& policy, std::string reason,
                    std::vector<std::string> paths) {
    Action action = base_action(ActionKind::build, service.name, std::move(reason), std::move(paths));
    if (service.build) action.command = service.build->command;
    action.cancellable = policy.updates.cancel_in_flight;
    action.immutable = policy.artifacts.immutable;
    action.sandboxed = policy.builds.sandbox;
    return action;
}

Action launch_action(ActionKind kind, const Spec& spec, const ServiceSpec& service, const PolicySet& policy,
                     std::string reason, std::vector<std::string> paths) {
    Action action = base_action(kind, service.name, std::move(reason), std::move(paths));
    action.replicas = service.replicas;
    action.on_crash = policy.crash.on_crash;
    action.verify_digest = policy.artifacts.immutable;
    action.env = visible_env(spec, service, policy);
    action.container = service.container;
    action.pin_digest = service.container.has_value() && policy.containers.pin_digests;
    if (kind == ActionKind::replace) {
        action.rollout = rollout_params(policy);
        action.auto_revert = policy.auto_revert.enabled;
    }
    return action;
}

Action command_action(ActionKind kind, const ServiceSpec& service, std::string command, std::string reason,
                      std::vector<std::string> paths) {
    Action action = base_action(kind, service.name, std::move(reason), std::move(paths));
    action.command = std::move(command);
    return action;
}

Action sync_action(const ServiceSpec& service, std::vector<std::string> paths) {
    std::string reason = describe_changes(paths);
    return base_action(ActionKind::sync, service.name, std::move(reason), std::move(paths));
}

Action stop_action(const std::string& service, std::string reason) {
    return base_action(ActionKind::stop, service, std::move(reason), {});
}

std::string short_digest(const std::string& digest) {
    if (digest.empty()) return "none";
    const std::string_view algorithm = "sha256:";
    if (digest.compare(0, algorithm.size(), algorithm) != 0) return digest.substr(0, 15);
    return digest.substr(0, algorithm.size() + 8);
}

}  // namespace tandem
