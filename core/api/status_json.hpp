// The service statuses as a JSON value, for documents that embed them (the HTTP API's status)
// without writing and parsing them again.
#pragma once

#include <tandem/control.hpp>
#include <tandem/runtime.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tandem {

// {"policy": ..., "services": [...]}: what to_json(services, policy) writes.
nlohmann::json status_json(const std::vector<ServiceStatus>& services, const std::string& policy);
// The `status` operation's document: status_json() of the engine, and under an engine that
// follows git its "release" status and the deployed "revision" (null and "" otherwise).
nlohmann::json engine_status_json(ControlHandler& engine);

}  // namespace tandem
