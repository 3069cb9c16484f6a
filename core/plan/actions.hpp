// Typed actions built from a service and the policy's knobs: each action carries the
// obligations (cancellable, immutable, digest check, rollout, ...) the executor must honour.
#pragma once

#include <tandem/plan.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tandem {

using EnvList = std::vector<std::pair<std::string, std::string>>;

// Whether an environment variable's name looks like it holds a secret (PASSWORD, SECRET,
// TOKEN, KEY, CREDENTIAL, in any case).
bool looks_secret(std::string_view key);

// The service's environment with ${services.X.port} expanded; secret-looking values become
// "<redacted>" when the policy is strict.
EnvList visible_env(const Spec& spec, const ServiceSpec& service, const PolicySet& policy);

Action build_action(const ServiceSpec& service, const PolicySet& policy, std::string reason,
                    std::vector<std::string> paths);

// `kind` is ActionKind::start or ActionKind::replace.
Action launch_action(ActionKind kind, const Spec& spec, const ServiceSpec& service, const PolicySet& policy,
                     std::string reason, std::vector<std::string> paths);

// A shell command of the service's own (ActionKind::run or ActionKind::reset).
Action command_action(ActionKind kind, const ServiceSpec& service, std::string command, std::string reason,
                      std::vector<std::string> paths);

Action sync_action(const ServiceSpec& service, std::vector<std::string> paths);

Action stop_action(const std::string& service, std::string reason);

// An artifact digest for people: "sha256:" and the first 8 hex digits ("none" when empty).
std::string short_digest(const std::string& digest);

}  // namespace tandem
