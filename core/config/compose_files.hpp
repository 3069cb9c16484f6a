// Reading compose files: parse, substitute variables, resolve `<<` merge keys, merge files.
#pragma once

#include "config/compose_context.hpp"

namespace tandem::config::compose {

// One compose file, parsed (within the YAML limits), its nodes registered in context.files,
// its values' variables substituted and its `<<` merge keys resolved.
Result<YAML::Node> read_compose_file(Context& context, const std::string& file);

// An env file or Procfile: refused past kMaxSmallFileBytes.
inline constexpr std::size_t kMaxSmallFileBytes = std::size_t{1} << 20;
Result<std::string> read_small_file(const FileReader& read, const std::string& file);

// The project's `.env` into context.dotenv, if there is one.
Status read_dotenv(Context& context);

// The files merged in order by compose's rules.
YAML::Node merge_files(const std::vector<YAML::Node>& roots);

}  // namespace tandem::config::compose
