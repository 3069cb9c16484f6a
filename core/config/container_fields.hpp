// Readers for the keys of a container service: `image:`, an image `build:` and `volumes:`.
#pragma once

#include "support/yaml_fields.hpp"

#include <tandem/spec.hpp>

#include <vector>

namespace tandem::config {

// `image: NAME[:TAG|@sha256:HEX]`, checked against Docker's reference grammar.
Result<std::string> read_image(const YAML::Node& node, const yaml::Where& where);

// Whether a `build:` value builds an image: a mapping with `context` or `dockerfile`. A string,
// or a mapping with `command`, builds files for a process service (read_build).
bool is_image_build(const YAML::Node& node);

// `build: {context, dockerfile, target, args}`.
Result<ImageBuildSpec> read_image_build(const YAML::Node& node, const yaml::Where& where);

// `volumes: [NAME:/path, ./host/path:/path:ro, ...]`.
Result<std::vector<VolumeSpec>> read_volumes(const YAML::Node& node, const yaml::Where& where);

}  // namespace tandem::config
