// The commands of a git source that run here rather than ask a running engine: run (the
// release loop), history and audit verify|show|repair (they read the state directory).
#pragma once

#include "frontend/options.hpp"

#include <filesystem>

namespace tandem::cli {

// The state directory of `shipper run` and its commands: --state-dir, or ./.shipper.
std::filesystem::path release_state_dir(const Options& options);

int run_command(const Options& options, const ToolDefaults& tool);
int history_command(const Options& options, const ToolDefaults& tool);
int audit_command(const Options& options, const ToolDefaults& tool);

// The release part of `status` (deployed revision, pin, last error), printed before the
// services when the engine is a release engine; false when it is not.
bool print_release_status(const std::string& release_json, const Options& options);

}  // namespace tandem::cli
