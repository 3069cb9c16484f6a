// The service statuses as a JSON value, for documents that embed them (the HTTP API's status)
// without writing and parsing them again.
#pragma once

#include <tandem/runtime.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tandem {

// {"policy": ..., "services": [...]}: what to_json(services, policy) writes.
nlohmann::json status_json(const std::vector<ServiceStatus>& services, const std::string& policy);

}  // namespace tandem
