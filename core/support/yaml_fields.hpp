// Typed reads of yaml-cpp nodes that turn every mistake into an Error with file, line and
// column. Shared by the config loader and the policy loader; private to the library.
#pragma once

#include <tandem/duration.hpp>
#include <tandem/error.hpp>

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::yaml {

// One document of `text`; a syntax error names the line and column yaml-cpp stopped at. The
// document is first checked against yaml::Limits (support/yaml_limits.hpp): a file of aliases
// that would expand past them is refused here, before anything reads it.
Result<YAML::Node> parse(std::string_view text, const std::string& file);

// yaml-cpp's exception as an Error at the line and column it names.
Error syntax_error(const YAML::Exception& e, const std::string& file);

// Where `node` starts (1-based), or just the file when yaml-cpp has no mark for it.
SourceLocation location(const YAML::Node& node, const std::string& file);

// Reading context: the file, for locations, and the path of keys to the node, for messages
// ("services.api.health").
struct Where {
    std::string file;
    std::string path;
    Where child(std::string_view key) const;
};

// An unknown_key error for the first key of `map` not in `known`, with a "did you mean"
// suggestion when one is close; Ok when every key is known. `map` must be a mapping.
Status check_keys(const YAML::Node& map, const Where& where, std::initializer_list<std::string_view> known);
Status check_keys(const YAML::Node& map, const Where& where, const std::vector<std::string_view>& known);

// An invalid_value error at `node`: "<path>: <what>".
Error invalid(const YAML::Node& node, const Where& where, const std::string& what);

Status expect_map(const YAML::Node& node, const Where& where);

Result<std::string> read_string(const YAML::Node& node, const Where& where);
Result<bool> read_bool(const YAML::Node& node, const Where& where);
Result<int> read_int(const YAML::Node& node, const Where& where, int min, int max);
Result<Duration> read_duration(const YAML::Node& node, const Where& where);
// A sequence of strings; with `allow_scalar`, a lone string counts as a list of one.
Result<std::vector<std::string>> read_string_list(const YAML::Node& node, const Where& where,
                                                  bool allow_scalar = false);
// One of `choices`; otherwise an error listing them (and the nearest one).
Result<std::string> read_choice(const YAML::Node& node, const Where& where,
                                std::initializer_list<std::string_view> choices);

}  // namespace tandem::yaml
