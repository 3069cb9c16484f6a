// The document of GET /api/v1/status (and of the events stream's `status` events): the
// engine's part, the same for every caller, then per caller the actions it may take and "you".
#pragma once

#include "http/access.hpp"

#include <tandem/control.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>

namespace tandem::http {

struct EngineStatus {
    nlohmann::json document;                     // tool, policy, revision, release, services
    std::map<std::string, std::string> refused;  // the engine's refused_actions()
    ControlHandler::ServiceRefusals service_refused;  // its refused_service_actions()
};

EngineStatus engine_status(ControlHandler& engine, std::string_view tool);

// The whole document for `caller`: "actions" lists trigger, restart, reset, sync and rollback,
// each allowed or with the reason it is not (the caller's role first, then the engine's); each
// service has "actions" too: trigger, restart and reset for that service (a reset without a
// reset command in the spec is refused with the reason).
std::string status_document(const EngineStatus& engine, const Caller& caller);

}  // namespace tandem::http
