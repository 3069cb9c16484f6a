// The status document: the control socket's status JSON, the release engine's status, and the
// actions a caller may take.
#include "http/status_document.hpp"

#include "api/status_json.hpp"

namespace tandem::http {

using nlohmann::json;

namespace {

constexpr const char* kActions[] = {"trigger", "restart", "reset", "sync", "rollback"};
constexpr const char* kServiceActions[] = {"trigger", "restart", "reset"};

}  // namespace

EngineStatus engine_status(ControlHandler& engine, std::string_view tool) {
    EngineStatus out;
    out.document = engine_status_json(engine);
    out.document["tool"] = tool;
    out.refused = engine.refused_actions();
    // The actions the engine's source does not have (sync and rollback of a disk engine).
    if (engine.source() != SourceKind::git)
        for (const EngineOperation& operation : engine_operations())
            if (operation.git_only && operation.access == EngineOperation::Access::change)
                out.refused.emplace(std::string(operation.name), "this engine follows files on disk, not a git repository");
    out.service_refused = engine.refused_service_actions();
    return out;
}

std::string status_document(const EngineStatus& engine, const Caller& caller) {
    json document = engine.document;
    json actions = json::object();
    auto verdict = [&](const std::string& action) {
        if (!caller.may(action))
            return json{{"allowed", false}, {"reason", "role '" + caller.role + "' may not " + action}};
        if (const auto it = engine.refused.find(action); it != engine.refused.end())
            return json{{"allowed", false}, {"reason", it->second}};
        return json{{"allowed", true}};
    };
    for (const char* action : kActions) actions[action] = verdict(action);
    for (const auto& [action, reason] : engine.refused)
        if (!actions.contains(action)) actions[action] = verdict(action);
    for (auto& service : document["services"]) {
        const auto refused = engine.service_refused.find(service.value("name", ""));
        json own = json::object();
        for (const char* action : kServiceActions) {
            own[action] = actions[action];
            if (refused == engine.service_refused.end() || !own[action].value("allowed", false)) continue;
            if (const auto why = refused->second.find(action); why != refused->second.end())
                own[action] = json{{"allowed", false}, {"reason", why->second}};
        }
        service["actions"] = std::move(own);
    }
    document["actions"] = std::move(actions);
    document["you"] = {{"token", caller.token}, {"role", caller.role}};
    return document.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace tandem::http
