// The commands that talk to a running engine from a second terminal: one per engine operation
// (tandem/operations.hpp), through the engine's HTTP API when it serves one and its control
// socket otherwise, the reply printed as a table or lines for people, or as JSON.
#pragma once

#include "frontend/api_client.hpp"
#include "frontend/options.hpp"

#include <tandem/control.hpp>
#include <tandem/operations.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace tandem::cli {

// The running engine's socket: in --state-dir, or in the nearest .shipper/ or .tandem/ above
// the project directory (see locate_engine).
std::filesystem::path control_socket_path(const Options& options, const ToolDefaults& tool);

// The running engine's HTTP API, when it serves one.
std::optional<ApiClient> engine_api(const Options& options, const ToolDefaults& tool);

// Asks the running engine to carry out `operation`: `on_item` gets its document, or each of
// its lines as {"line": ...} (a followed log: until the engine or the user ends it).
Status call_operation(const EngineOperation& operation, const ControlRequest& request, const Options& options,
                      const ToolDefaults& tool, const std::function<void(const std::string& item)>& on_item);

// The CLI command of `operation`: its operands (SERVICE, REVISION) and --tail/-f as its
// arguments, the call, the reply printed. Returns the exit code.
int operation_command(const EngineOperation& operation, const Options& options, const ToolDefaults& tool);
// What the CLI shows of `operation` in --help: "SERVICE", "[REVISION]", "".
std::string operation_usage(const EngineOperation& operation);

}  // namespace tandem::cli
