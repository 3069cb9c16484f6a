// The commands that talk to a running engine through its control socket, from a second
// terminal: status, logs, down, reset, trigger.
#pragma once

#include "frontend/options.hpp"

#include <filesystem>

namespace tandem::cli {

// <project dir>/.tandem/control.sock, the project dir being the directory of -f FILE. `up`
// listens there.
std::filesystem::path control_socket_path(const Options& options);

int status_command(const Options& options, const ToolDefaults& tool);
int logs_command(const Options& options, const ToolDefaults& tool);
int down_command(const Options& options, const ToolDefaults& tool);
int reset_command(const Options& options, const ToolDefaults& tool);
int trigger_command(const Options& options, const ToolDefaults& tool);

}  // namespace tandem::cli
