// Variables in compose files (issue 16), as `docker compose` substitutes them before it reads
// the YAML's values: `$VAR` and `${VAR}`; `${VAR:-default}` / `${VAR-default}` (when unset or
// empty / unset); `${VAR:?message}` / `${VAR?message}` (an error then); `${VAR:+other}` /
// `${VAR+other}` (`other` when set and not empty / set); `$$` for a `$`. A default, message or
// replacement may hold variables itself. Also the `.env` file those values come from.
#pragma once

#include <tandem/error.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tandem::config {

// A variable's value, or none when it is not set.
using VariableLookup = std::function<std::optional<std::string>(const std::string& name)>;

// `text` with every variable replaced. An error names the variable and its offset in `text`
// (a `${` without `}`, a name that is not one, `${VAR:?…}` of an unset variable).
Result<std::string> interpolate(std::string_view text, const VariableLookup& lookup);

// The variables of an `.env` file: `KEY=VALUE` lines (an `export ` before KEY is allowed),
// `#` comments and blank lines skipped; VALUE unquoted (trimmed; ` #…` after it a comment),
// 'single-quoted' (as written) or "double-quoted" (\n, \t, \\ and \" escaped; variables in it
// interpolated from what is above it and `lookup`). An error names the line.
Result<std::map<std::string, std::string>> parse_env_file(std::string_view text, const VariableLookup& lookup);

}  // namespace tandem::config
