// Durations as people write them (YAML, --poll): "250ms", "2s", "1.5m", "1h".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tandem {

using Duration = std::chrono::milliseconds;

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
// The shortest exact spelling: 1500ms -> "1500ms", 2000ms -> "2s", 120000ms -> "2m".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace tandem
