// The table of engine operations and their handlers: one row each, from which the control
// socket's dispatch, the HTTP API's routes and the CLI's remote commands come.
#include <tandem/operations.hpp>

#include "api/control_protocol.hpp"
#include "api/status_json.hpp"

#include <tandem/control.hpp>

#include <nlohmann/json.hpp>

namespace tandem {

using nlohmann::json;

namespace {

using Argument = OperationArgument;
using Access = EngineOperation::Access;
using ReplyKind = EngineOperation::Reply;

constexpr Argument kService{"service", Argument::Type::text, true};
constexpr Argument kTail{"tail", Argument::Type::count, false};

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

OperationReply document(std::string text) { return OperationReply{std::move(text), {}}; }

Result<OperationReply> document(const Result<std::string>& text) {
    if (!text) return text.error();
    return document(*text);
}

// What an action that succeeded answers: {"ok": true, "service": ..., "action": ..., "outcome": "succeeded"}.
Result<OperationReply> done(const Status& status, const ControlRequest& request) {
    if (!status) return status.error();
    json reply{{"ok", true}, {"action", request.command}, {"outcome", "succeeded"}};
    if (!request.service.empty()) reply["service"] = request.service;
    return document(dump(reply));
}

Result<OperationReply> answer_status(ControlHandler& engine, const ControlRequest&) {
    return document(dump(engine_status_json(engine)));
}

Result<OperationReply> answer_logs(ControlHandler& engine, const ControlRequest& request) {
    if (auto known = control::check_service(engine, request.service); !known) return known.error();
    return OperationReply{{}, engine.logs(request.service, request.tail)};
}

Result<OperationReply> answer_down(ControlHandler& engine, const ControlRequest& request) {
    return done(engine.down(), request);
}

// trigger, restart and reset: of a service the engine has.
Result<OperationReply> answer_service_action(ControlHandler& engine, const ControlRequest& request) {
    if (auto known = control::check_service(engine, request.service); !known) return known.error();
    const std::string& name = request.command;
    return done(name == "reset"     ? engine.reset(request.service, request.actor)
                : name == "restart" ? engine.restart(request.service, request.actor)
                                    : engine.trigger(request.service, request.actor),
                request);
}

Result<OperationReply> answer_sync(ControlHandler& engine, const ControlRequest& request) {
    return document(engine.sync(request.actor));
}

Result<OperationReply> answer_rollback(ControlHandler& engine, const ControlRequest& request) {
    return document(engine.rollback(request.revision, request.actor));
}

Result<OperationReply> answer_diff(ControlHandler& engine, const ControlRequest& request) {
    return document(engine.diff(request.revision));
}

// The kept releases: the history part of the release status.
Result<OperationReply> answer_history(ControlHandler& engine, const ControlRequest&) {
    auto release = engine.release_status();
    if (!release) return release.error();
    const json parsed = json::parse(*release, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object())
        return make_error(ErrorCode::io, "the engine's release status is not JSON");
    return document(dump(parsed.value("history", json::object())));
}

Result<OperationReply> answer_audit(ControlHandler& engine, const ControlRequest& request) {
    return document(engine.audit_trail(request.tail));
}

// The deploy previews the engine runs, as a JSON array (empty for an engine without any).
Result<OperationReply> answer_previews(ControlHandler& engine, const ControlRequest&) {
    PreviewControl* previews = engine.previews();
    return OperationReply{previews ? previews->list_json() : "[]", {}};
}

std::vector<EngineOperation> make_table() {
    const Argument revision{"revision", Argument::Type::text, false};
    const Argument wanted_revision{"revision", Argument::Type::text, true};
    const Argument follow{"follow", Argument::Type::flag, false};
    // name, summary, arguments, access, grant, git_only, waits, reply, handler
    return {
        {"status", "show the running engine's services (and what a git engine has deployed)", {}, Access::read,
         "status", false, false, ReplyKind::document, answer_status},
        {"logs", "print a service's recent log lines; -f keeps following them", {kService, kTail, follow},
         Access::read, "logs", false, false, ReplyKind::lines, answer_logs},
        {"down", "stop the running engine and every service it started", {}, Access::change, "down", false, false,
         ReplyKind::document, answer_down},
        {"reset", "stop the service, empty its state, run its reset command, start it", {kService}, Access::change,
         "reset", false, true, ReplyKind::document, answer_service_action},
        {"trigger", "rebuild and restart the service in the running engine (a git engine: from its artifact)",
         {kService}, Access::change, "trigger", false, true, ReplyKind::document, answer_service_action},
        {"restart", "restart the service's replicas without a build where the engine can", {kService},
         Access::change, "restart", false, true, ReplyKind::document, answer_service_action},
        {"sync", "make the running engine fetch now and deploy the newest commit; waits for the outcome", {},
         Access::change, "sync", true, true, ReplyKind::document, answer_sync},
        {"history", "list the kept releases (newest first), the deployed one marked *", {}, Access::read, "status",
         true, false, ReplyKind::document, answer_history},
        {"diff", "show the plan a deploy of REVISION (commit, branch or tag) would carry out now", {wanted_revision},
         Access::read, "status", true, true, ReplyKind::document, answer_diff},
        {"rollback", "redeploy a kept release (default: the one before) from its artifacts, and pin it", {revision},
         Access::change, "rollback", true, true, ReplyKind::document, answer_rollback},
        {"audit", "the last TAIL records of the audit log (default 100), oldest first", {kTail}, Access::read,
         "status", true, true, ReplyKind::document, answer_audit},
        {"previews", "list the deploy previews: branch, URL, commit, age and state", {}, Access::read, "status", true,
         false, ReplyKind::document, answer_previews},
    };
}

bool given(const ControlRequest& request, std::string_view argument) {
    if (argument == "service") return !request.service.empty();
    if (argument == "revision") return !request.revision.empty();
    return true;  // tail and follow have defaults
}

}  // namespace

const char* to_string(SourceKind kind) { return kind == SourceKind::git ? "git" : "disk"; }

const OperationArgument* EngineOperation::argument(std::string_view wanted) const {
    for (const auto& a : arguments)
        if (a.name == wanted) return &a;
    return nullptr;
}

const std::vector<EngineOperation>& engine_operations() {
    static const std::vector<EngineOperation> table = make_table();
    return table;
}

const EngineOperation* find_operation(std::string_view name) {
    for (const auto& operation : engine_operations())
        if (operation.name == name) return &operation;
    return nullptr;
}

std::string operation_names() {
    std::string names;
    for (const auto& operation : engine_operations()) names += (names.empty() ? "" : ", ") + std::string(operation.name);
    return names;
}

Error unsupported_operation(std::string_view name, SourceKind source) {
    const std::string command(name);
    if (source == SourceKind::disk)
        return make_error(ErrorCode::usage, "`" + command +
                                                "` is an operation of an engine that follows a git repository; this "
                                                "engine follows files on disk, not a git repository (start one with "
                                                "`devloop run --repo URL --ref BRANCH` or `shipper run --repo URL`)");
    return make_error(ErrorCode::usage, "`" + command + "` is not an operation of an engine that follows a git repository");
}

Status admissible(ControlHandler& engine, const EngineOperation& operation, const ControlRequest& request) {
    for (const auto& argument : operation.arguments) {
        if (argument.required && !given(request, argument.name))
            return make_error(ErrorCode::usage, std::string(operation.name) + " needs a \"" + std::string(argument.name) + "\"");
        if (argument.name == "tail" && request.tail > kMaxTail)
            return make_error(ErrorCode::invalid_value, "tail must be a number from 0 to " + std::to_string(kMaxTail) +
                                                            ", not " + std::to_string(request.tail));
    }
    if (operation.git_only && engine.source() != SourceKind::git)
        return unsupported_operation(operation.name, engine.source());
    return Ok{};
}

Result<OperationReply> perform(ControlHandler& engine, const EngineOperation& operation, const ControlRequest& request) {
    if (auto allowed = admissible(engine, operation, request); !allowed) return allowed.error();
    return operation.run(engine, request);
}

}  // namespace tandem
