// Readers for the values of a service's keys that have structure of their own: run and exec
// commands, build, health, watch rules, reset, and paths relative to the project root.
#pragma once

#include "support/yaml_fields.hpp"

#include <tandem/spec.hpp>

#include <string>
#include <vector>

namespace tandem::config {

// A command: a YAML list is the argv; a string becomes {"/bin/sh", "-c", string}.
struct Command {
    std::vector<std::string> argv;
    bool shell = false;
};
Result<Command> read_command(const YAML::Node& node, const yaml::Where& where);

// A path or glob relative to the project root: not absolute, not leaving the root with `..`.
// Returns it lexically normalized ("./src/" -> "src").
Result<std::string> read_relative_path(const YAML::Node& node, const yaml::Where& where);

Result<BuildSpec> read_build(const YAML::Node& node, const yaml::Where& where);
Result<HealthSpec> read_health(const YAML::Node& node, const yaml::Where& where);
Result<std::vector<WatchRule>> read_watch(const YAML::Node& node, const yaml::Where& where);
Result<ResetSpec> read_reset(const YAML::Node& node, const yaml::Where& where);

}  // namespace tandem::config
