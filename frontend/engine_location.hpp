// Where a command finds the engine it talks to: --state-dir, or the nearest `.shipper/` (shipper
// run) or `.tandem/` (devloop up) found walking up from the project directory, as git finds
// `.git/`, so that commands work from anywhere inside the project.
#pragma once

#include "frontend/options.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace tandem::cli {

struct EngineLocation {
    std::filesystem::path state_dir;             // the state directory chosen (it may not exist)
    bool running = false;                        // its control socket exists
    std::vector<std::filesystem::path> checked;  // the directories searched, nearest first; empty with --state-dir
};

// The nearest directory at or above `start` holding `name/control.sock` (a running engine's);
// else the nearest holding `name/` (an engine's records, the engine stopped); else `start/name`.
EngineLocation find_engine(const std::filesystem::path& start, const std::string& name);

// The engine a command talks to: with --state-dir that directory; otherwise searched for from
// the directory of -f (the current directory by default). A git source (shipper's default,
// --repo, --source git) looks for `run`'s `.shipper` and then `.tandem`; a disk source for
// `up`'s `.tandem` and then `.shipper`.
EngineLocation locate_engine(const Options& options, const ToolDefaults& tool);

// shipper run's state directory for history and audit, which read it with the engine stopped
// too: --state-dir, or the nearest `.shipper/` at or above the directory of -f.
EngineLocation locate_release_state(const Options& options);

// " (looked for .shipper/ in /a/b, /a, /; give --state-dir DIR)" when the state directory was
// searched for and not found; "" otherwise.
std::string where_looked(const EngineLocation& where);

// "no engine is running for this project: no .shipper/control.sock in /a/b, /a, / (...)".
Error no_engine_found(const EngineLocation& where, const Options& options, const ToolDefaults& tool);

}  // namespace tandem::cli
