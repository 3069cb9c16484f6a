// The `${...}` variables of env values and commands: `${port}`, `${services.NAME.port}`,
// `${services.NAME.host}` and `${state.NAME}`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::config {

struct Variable {
    std::size_t offset = 0;  // where `${` starts in the text
    std::size_t length = 0;  // through the closing `}`
    std::string name;        // what is between the braces: "port", "services.api.port"
};

struct VariableScan {
    std::vector<Variable> variables;
    std::optional<std::size_t> unclosed;  // offset of a `${` with no `}` after it
};

// Every `${...}` in `text`, in order.
VariableScan scan_variables(std::string_view text);

// "api" for "services.api.port"; nothing for any other name.
std::optional<std::string> referenced_service(std::string_view name);

// "api" for "services.api.host"; nothing for any other name.
std::optional<std::string> referenced_host(std::string_view name);

// "pgdata" for "state.pgdata"; nothing for any other name.
std::optional<std::string> referenced_state(std::string_view name);

inline constexpr std::string_view kOwnPortVariable = "port";

}  // namespace tandem::config
