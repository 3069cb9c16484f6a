// Compose files as tandem projects: one or more compose files (merged by compose's rules, with
// variables substituted) translated into a tandem.yaml document, which the one tandem.yaml
// parser then validates. What tandem cannot take as written is a warning (ignored, and what
// happens instead) or an error (it would change behaviour tandem cannot honour).
#pragma once

#include "config/interpolation.hpp"

#include <tandem/error.hpp>
#include <tandem/policy.hpp>

#include <yaml-cpp/yaml.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace tandem::config {

struct ComposeOptions {
    std::vector<std::string> files;     // in merge order, relative to the project root
    std::vector<std::string> profiles;  // active profiles
    VariableLookup environment;         // the engine's environment (wins over .env)
};

// Where an inline policy set of `x-tandem.policies` was written, for PolicyCatalog::add_yaml.
struct InlinePolicySource {
    std::string file;
    std::string text;
    std::string key_path;  // "x-tandem.policies.NAME"
};

struct ComposeTranslation {
    YAML::Node document;                 // a tandem.yaml document (schema version 1)
    std::string file;                    // the first compose file, as errors name it
    std::vector<Error> warnings;         // each once
    std::vector<std::string> files;      // every file read (compose files, .env, env_file, secrets are not read)
    std::map<std::string, InlinePolicySource> policies;
    // Errors of the tandem parser are located by line and column in `file`; a node that came
    // from another compose file is at the same line and column there: this names that file.
    std::function<Error(Error)> relocate;
};

Result<ComposeTranslation> translate_compose(const FileReader& read, const ComposeOptions& options);

// The override file `docker compose` merges over `file` when no other file is given
// ("compose.override.yaml" beside "compose.yaml"), if it exists.
std::optional<std::string> compose_override_file(const FileReader& read, const std::string& file);

}  // namespace tandem::config
