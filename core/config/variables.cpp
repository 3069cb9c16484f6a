// Finding and naming the `${...}` variables of env values and commands.
#include "config/variables.hpp"

namespace tandem::config {

VariableScan scan_variables(std::string_view text) {
    VariableScan scan;
    std::size_t at = 0;
    while ((at = text.find("${", at)) != std::string_view::npos) {
        const std::size_t close = text.find('}', at + 2);
        if (close == std::string_view::npos) {
            scan.unclosed = at;
            break;
        }
        scan.variables.push_back(Variable{at, close + 1 - at, std::string(text.substr(at + 2, close - at - 2))});
        at = close + 1;
    }
    return scan;
}

namespace {

std::optional<std::string> service_of(std::string_view name, std::string_view suffix) {
    constexpr std::string_view prefix = "services.";
    if (name.size() <= prefix.size() + suffix.size()) return std::nullopt;
    if (name.substr(0, prefix.size()) != prefix || name.substr(name.size() - suffix.size()) != suffix)
        return std::nullopt;
    return std::string(name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
}

}  // namespace

std::optional<std::string> referenced_service(std::string_view name) { return service_of(name, ".port"); }

std::optional<std::string> referenced_host(std::string_view name) { return service_of(name, ".host"); }

std::optional<std::string> referenced_state(std::string_view name) {
    constexpr std::string_view prefix = "state.";
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return std::nullopt;
    return std::string(name.substr(prefix.size()));
}

}  // namespace tandem::config
