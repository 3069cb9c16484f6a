// status, logs, down, reset and trigger: one request to the running engine's control socket,
// its reply printed as a table or lines for people, or as JSON.
#include "frontend/remote_commands.hpp"

#include "frontend/api_client.hpp"
#include "frontend/engine_location.hpp"
#include "frontend/output.hpp"
#include "frontend/release_commands.hpp"

#include <tandem/control.hpp>

#include <nlohmann/json.hpp>

#include <iostream>

namespace tandem::cli {

namespace {

ControlRequest request_for(std::string command, std::string service = {}) {
    ControlRequest request;
    request.command = std::move(command);
    request.service = std::move(service);
    return request;
}

std::string pad(const std::string& text, std::size_t width) {
    return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

// The one SERVICE operand of logs, reset and trigger, or a usage error.
Result<std::string> service_operand(const Options& options) {
    if (options.operands.size() != 1)
        return make_error(ErrorCode::usage, options.command + " takes one SERVICE" +
                                                (options.operands.empty() ? "" : ", got " +
                                                                                     std::to_string(options.operands.size())));
    return options.operands.front();
}

void print_status_table(const StatusReply& reply) {
    std::size_t name_width = 8;
    bool artifacts = false;
    for (const auto& s : reply.services) {
        name_width = std::max(name_width, s.name.size() + 2);
        artifacts = artifacts || !s.artifact_digest.empty();
    }
    std::cout << pad("SERVICE", name_width) << pad("STATE", 10) << pad("REPLICAS", 10) << pad("PORT", 7)
              << pad("RESTARTS", 10) << (artifacts ? pad("ARTIFACT", 17) : "") << "LAST ERROR\n";
    for (const auto& s : reply.services) {
        int ready = 0;
        for (const auto& r : s.replicas)
            if (r.routed && r.health != Health::unhealthy) ++ready;
        std::cout << pad(s.name, name_width) << pad(to_string(s.state), 10)
                  << pad(std::to_string(ready) + "/" + std::to_string(s.replicas.size()), 10)
                  << pad(s.port ? std::to_string(s.port) : "-", 7) << pad(std::to_string(s.restarts), 10);
        if (artifacts) std::cout << pad(s.artifact_digest.empty() ? "-" : s.artifact_digest.substr(0, 15), 17);
        std::cout << (s.last_error.empty() ? "-" : s.last_error) << "\n";
    }
    // A service that is down shows why, as its own last lines said it (as Tilt does).
    for (const auto& s : reply.services) {
        if (s.crash_lines.empty() || s.state == ServiceState::ready || s.state == ServiceState::completed) continue;
        std::cout << "\n" << s.name << ": last output of the crashed replica\n";
        const std::size_t first = s.crash_lines.size() > 10 ? s.crash_lines.size() - 10 : 0;
        for (std::size_t i = first; i < s.crash_lines.size(); ++i) std::cout << "  | " << s.crash_lines[i] << "\n";
    }
    std::cout << "policy: " << reply.policy << "\n";
}

// down, reset and trigger: an {"ok":true} reply, then a sentence (or the JSON) saying so.
int run_action(const ControlRequest& request, const std::string& done, const Options& options,
               const ToolDefaults& tool) {
    const int code = call_engine(request, options, tool, [](const std::string&) {});
    if (code != 0) return code;
    if (options.output == OutputFormat::json) std::cout << "{\"ok\": true}\n";
    else std::cout << done << "\n";
    return 0;
}

}  // namespace

int call_engine(const ControlRequest& request, const Options& options, const ToolDefaults& tool,
                const std::function<void(const std::string&)>& on_line) {
    const EngineLocation engine = locate_engine(options, tool);
    if (!engine.running) return report_error(no_engine_found(engine, tool), options, tool);
    auto client = ControlClient::connect(engine.state_dir / "control.sock");
    if (!client) return report_error(client.error(), options, tool);
    if (auto status = client->call(request, on_line); !status) return report_error(status.error(), options, tool);
    return 0;
}

std::filesystem::path control_socket_path(const Options& options, const ToolDefaults& tool) {
    return locate_engine(options, tool).state_dir / "control.sock";
}

std::optional<ApiClient> engine_api(const Options& options, const ToolDefaults& tool) {
    return ApiClient::find(control_socket_path(options, tool), options);
}

namespace {

int status_over_api(const ApiClient& api, const Options& options, const ToolDefaults& tool) {
    auto reply = api.get("/api/v1/status");
    if (!reply) return report_error(reply.error(), options, tool);
    auto services = status_from_json(reply->body);
    if (!services) return report_error(services.error(), options, tool);
    const auto document = nlohmann::json::parse(reply->body);
    if (options.output == OutputFormat::json) {
        std::cout << document.dump(2) << "\n";
        return 0;
    }
    if (document.contains("release") && document["release"].is_object()) print_release_status(document["release"].dump(), options);
    print_status_table(*services);
    return 0;
}

int logs_over_api(const ApiClient& api, const std::string& service, const Options& options, const ToolDefaults& tool) {
    const bool json = options.output == OutputFormat::json;
    const std::string target = "/api/v1/services/" + service + "/logs?tail=" + std::to_string(options.tail);
    auto print = [json](const std::string& data) {
        const auto j = nlohmann::json::parse(data, nullptr, false);
        if (json) std::cout << data << std::endl;
        else if (j.is_object() && j.contains("line") && j["line"].is_string()) std::cout << j["line"].get<std::string>() << std::endl;
    };
    if (options.follow) {
        auto streamed = api.stream(target + "&follow=1", [&print](const std::string& event, const std::string& data) {
            if (event == "log") print(data);
        });
        return streamed ? 0 : report_error(streamed.error(), options, tool);
    }
    auto reply = api.get(target);
    if (!reply) return report_error(reply.error(), options, tool);
    const auto j = nlohmann::json::parse(reply->body, nullptr, false);
    if (j.is_object() && j.contains("lines"))
        for (const auto& line : j["lines"]) print(nlohmann::json{{"line", line}}.dump());
    return 0;
}

int action_over_api(const ApiClient& api, const std::string& target, const std::string& done, const Options& options,
                    const ToolDefaults& tool) {
    auto reply = api.post(target);
    if (!reply) return report_error(reply.error(), options, tool);
    if (options.output == OutputFormat::json) std::cout << "{\"ok\": true}\n";
    else std::cout << done << "\n";
    return 0;
}

}  // namespace

int status_command(const Options& options, const ToolDefaults& tool) {
    if (auto api = engine_api(options, tool)) return status_over_api(*api, options, tool);
    // A release engine (shipper run) says what it has deployed first.
    std::string release_text;
    if (tool.default_source == SourceKind::git) {
        auto client = ControlClient::connect(control_socket_path(options, tool));
        if (client) (void)client->call(request_for("release"), [&release_text](const std::string& line) { release_text = line; });
    }
    std::string reply_text;
    const int code = call_engine(request_for("status"), options, tool,
                                 [&reply_text](const std::string& line) { reply_text = line; });
    if (code != 0) return code;
    auto reply = status_from_json(reply_text);
    if (!reply) return report_error(reply.error(), options, tool);
    if (options.output == OutputFormat::json) {
        auto document = nlohmann::json::parse(reply_text);
        const auto release = nlohmann::json::parse(release_text, nullptr, false);
        if (!release.is_discarded() && release.is_object() && !release.contains("error")) document["release"] = release;
        std::cout << document.dump(2) << "\n";
        return 0;
    }
    print_release_status(release_text, options);
    print_status_table(*reply);
    return 0;
}

int logs_command(const Options& options, const ToolDefaults& tool) {
    auto service = service_operand(options);
    if (!service) return report_error(service.error(), options, tool);
    if (auto api = engine_api(options, tool)) return logs_over_api(*api, *service, options, tool);
    ControlRequest request = request_for("logs", *service);
    request.tail = options.tail;
    request.follow = options.follow;
    const bool json = options.output == OutputFormat::json;
    return call_engine(request, options, tool, [json](const std::string& line) {
        if (json) {
            std::cout << line << std::endl;
            return;
        }
        const auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_object() && j.contains("line") && j["line"].is_string())
            std::cout << j["line"].get<std::string>() << std::endl;
    });
}

int down_command(const Options& options, const ToolDefaults& tool) {
    if (!options.operands.empty())
        return report_error(make_error(ErrorCode::usage, "down takes no operand"), options, tool);
    return run_action(request_for("down"), "the engine is stopping every service", options, tool);
}

int reset_command(const Options& options, const ToolDefaults& tool) {
    auto service = service_operand(options);
    if (!service) return report_error(service.error(), options, tool);
    if (auto api = engine_api(options, tool))
        return action_over_api(*api, "/api/v1/services/" + *service + "/reset", *service + ": reset done", options, tool);
    return run_action(request_for("reset", *service), *service + ": reset done", options, tool);
}

int trigger_command(const Options& options, const ToolDefaults& tool) {
    auto service = service_operand(options);
    if (!service) return report_error(service.error(), options, tool);
    if (auto api = engine_api(options, tool))
        return action_over_api(*api, "/api/v1/services/" + *service + "/trigger", *service + ": rebuilt and restarted",
                               options, tool);
    return run_action(request_for("trigger", *service), *service + ": rebuilt and restarted", options, tool);
}

}  // namespace tandem::cli
