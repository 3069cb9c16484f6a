// Loading the project a command works on, from disk or from a commit, as the options say.
#pragma once

#include "frontend/options.hpp"

#include <tandem/error.hpp>
#include <tandem/observed.hpp>
#include <tandem/project.hpp>

#include <string>

namespace tandem::cli {

struct ProjectInput {
    Project project;
    std::string file;      // tandem.yaml as the user named it
    std::string revision;  // the commit (git source), empty on disk
};

Result<ProjectInput> load_input(const Options& options, const ToolDefaults& tool);

// --observed FILE, or nothing running.
Result<Observed> load_observed(const Options& options);

}  // namespace tandem::cli
