// Timestamps as people and files read them: RFC 3339 in UTC with milliseconds.
#pragma once

#include <tandem/error.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace tandem {

// "2026-11-25T15:04:05.123Z"
std::string format_utc(std::chrono::system_clock::time_point time);
// The inverse of format_utc (the milliseconds are optional); an error names the text.
Result<std::chrono::system_clock::time_point> parse_utc(std::string_view text);

}  // namespace tandem
