// `up`: bring the project up on the process runtime and keep it running until Ctrl+C.
#pragma once

#include "frontend/options.hpp"

namespace tandem::cli {

int up_command(const Options& options, const ToolDefaults& tool);

}  // namespace tandem::cli
