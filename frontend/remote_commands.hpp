// The commands that talk to a running engine through its control socket, from a second
// terminal: status, logs, down, reset, trigger.
#pragma once

#include "frontend/api_client.hpp"
#include "frontend/options.hpp"

#include <tandem/control.hpp>

#include <filesystem>
#include <functional>
#include <string>

namespace tandem::cli {

// The running engine's socket: in --state-dir, or in the nearest .shipper/ or .tandem/ above
// the project directory (see locate_engine).
std::filesystem::path control_socket_path(const Options& options, const ToolDefaults& tool);

// Connects, sends, and hands every reply line to `on_line`; an error is reported and its exit code returned.
int call_engine(const ControlRequest& request, const Options& options, const ToolDefaults& tool,
                const std::function<void(const std::string&)>& on_line);

// The running engine's HTTP API, when it serves one (status, logs, trigger, reset, sync and
// rollback use it; the control socket otherwise).
std::optional<ApiClient> engine_api(const Options& options, const ToolDefaults& tool);

int status_command(const Options& options, const ToolDefaults& tool);
int logs_command(const Options& options, const ToolDefaults& tool);
int down_command(const Options& options, const ToolDefaults& tool);
int reset_command(const Options& options, const ToolDefaults& tool);
int trigger_command(const Options& options, const ToolDefaults& tool);

}  // namespace tandem::cli
