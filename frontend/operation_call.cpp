// Carrying an engine operation to the running engine: over its HTTP API (the same one the web
// page uses) when it serves one, else over its control socket.
#include "frontend/remote_commands.hpp"

#include "frontend/engine_location.hpp"

#include <nlohmann/json.hpp>

namespace tandem::cli {

namespace {

Status call_over_api(const ApiClient& api, const EngineOperation& operation, const ControlRequest& request,
                     const std::function<void(const std::string&)>& on_item) {
    const std::string target = http_target(operation, request);
    if (request.follow && operation.argument("follow"))
        return api.stream(target, [&on_item](const std::string& event, const std::string& data) {
            if (event == "log") on_item(data);
        });
    auto reply = http_method(operation) == std::string_view("GET") ? api.get(target)
                                                                    : api.post(target, http_body(operation, request));
    if (!reply) return reply.error();
    if (operation.reply == EngineOperation::Reply::document) {
        on_item(reply->body);
        return Ok{};
    }
    const auto j = nlohmann::json::parse(reply->body, nullptr, false);
    if (j.is_object() && j.contains("lines") && j["lines"].is_array())
        for (const auto& line : j["lines"]) on_item(nlohmann::json{{"line", line}}.dump());
    return Ok{};
}

}  // namespace

std::filesystem::path control_socket_path(const Options& options, const ToolDefaults& tool) {
    return locate_engine(options, tool).state_dir / "control.sock";
}

std::optional<ApiClient> engine_api(const Options& options, const ToolDefaults& tool) {
    return ApiClient::find(control_socket_path(options, tool), options);
}

Status call_operation(const EngineOperation& operation, const ControlRequest& request, const Options& options,
                      const ToolDefaults& tool, const std::function<void(const std::string&)>& on_item) {
    const EngineLocation engine = locate_engine(options, tool);
    if (!engine.running) return no_engine_found(engine, options, tool);
    if (auto api = ApiClient::find(engine.state_dir / "control.sock", options))
        return call_over_api(*api, operation, request, on_item);
    auto client = ControlClient::connect(engine.state_dir / "control.sock");
    if (!client) return client.error();
    return client->call(request, on_item);
}

}  // namespace tandem::cli
