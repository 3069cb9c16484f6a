// Loading the project a command works on, from disk or from a commit, as the options say.
#pragma once

#include "frontend/options.hpp"

#include <tandem/error.hpp>
#include <tandem/observed.hpp>
#include <tandem/project.hpp>

#include <filesystem>
#include <string>

namespace tandem::cli {

struct ProjectInput {
    Project project;
    std::string file;      // the project's file as the user named it (or as it was found)
    std::string revision;  // the commit (git source), empty on disk
};

// Loads it, and prints its warnings (a compose key tandem ignores, ...) on stderr, each once.
Result<ProjectInput> load_input(const Options& options, const ToolDefaults& tool);

// What the library is told: the file (relative to the project directory), --policy, --profile.
ProjectOptions project_options(const Options& options, const ToolDefaults& tool);

// The directory the project's file is in (its root).
std::filesystem::path project_dir(const Options& options);

// The project's equivalent tandem.yaml (devloop convert).
Result<std::string> convert_input(const Options& options, const ToolDefaults& tool);

// --observed FILE, or nothing running.
Result<Observed> load_observed(const Options& options);

}  // namespace tandem::cli
