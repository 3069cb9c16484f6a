// What a service's processes need of the machine before any of them runs: its `user:` looked
// up and allowed, its `state:` directories made, and ${state.NAME} expanded to their paths.
// Emptying those directories is the first thing a reset does once the replicas are stopped.
#pragma once

#include "execute/service_supervisor.hpp"
#include "support/system_user.hpp"

#include <tandem/spec.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tandem::execute {

struct ServiceSetup {
    ServiceSpec service;  // ${state.NAME} expanded in every command and env value
    std::vector<std::pair<std::string, std::string>> env;  // and ${services.X.port} too
    std::optional<SystemUser> user;                        // `user:`, looked up
};

// Looks the service's user up again (an error names `services.NAME.user`, also when this
// engine may not run processes as it), and creates each state directory that does not exist
// under `state_root` (mode 0700, owned by that user when it has one).
Result<ServiceSetup> set_up_service(const Spec& spec, const ServiceSpec& service,
                                    const std::filesystem::path& state_root);

// A release whose replicas run as the setup says: its commands, env and user.
void apply_setup(Release& release, const ServiceSetup& setup);

// Removes everything inside the service's state directories, keeping the directories (their
// owner and mode) themselves.
Status empty_state(const ServiceSpec& service, const std::filesystem::path& state_root);

}  // namespace tandem::execute
