// A Procfile (`name: command` lines, as foreman and honcho read them) as the tandem.yaml it
// means: one process service per line, run with /bin/sh -c, with foreman's ports (PORT, else
// 5000, plus 100 per line) and the project's `.env` in every service's env.
#pragma once

#include <tandem/error.hpp>

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::config {

struct ProcfileDocument {
    YAML::Node document;          // {version: 1, services: {NAME: {run: "...", port: N, env: {...}}}}
    std::vector<Error> warnings;  // what could not be taken as written (nothing yet)
};

// `text` is the Procfile and `file` its name as shown in errors; `dotenv` the variables of the
// project's .env; `environment` the engine's environment (for PORT, which wins over .env's).
// Each process gets the port base + 100 * its index; `web` and every process whose command
// mentions $PORT or ${PORT} get it as their public `port:`, the others as env PORT. An error
// names the line and column (or the variable).
Result<ProcfileDocument> procfile_document(
    std::string_view text, const std::string& file, const std::map<std::string, std::string>& dotenv,
    const std::function<std::optional<std::string>(const std::string&)>& environment);

}  // namespace tandem::config
