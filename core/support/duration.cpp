// Parsing and printing of durations written as "250ms", "2s", "1.5m", "1h".
#include <tandem/duration.hpp>

#include <fmt/format.h>

#include <cctype>
#include <string>
#include <cmath>

namespace tandem {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    std::size_t split = 0;
    while (split < text.size() && (std::isdigit(static_cast<unsigned char>(text[split])) || text[split] == '.'))
        ++split;
    if (split == 0) return std::nullopt;
    const std::string number(text.substr(0, split));
    const std::string_view unit = text.substr(split);
    double value = 0;
    try {
        std::size_t used = 0;
        value = std::stod(number, &used);
        if (used != number.size()) return std::nullopt;
    } catch (...) {
        return std::nullopt;
    }
    double factor = 0;
    if (unit == "ms") factor = 1;
    else if (unit == "s") factor = 1000;
    else if (unit == "m") factor = 60'000;
    else if (unit == "h") factor = 3'600'000;
    else return std::nullopt;
    const double ms = value * factor;
    if (ms > 1e12 || ms != std::floor(ms)) return std::nullopt;
    return std::chrono::milliseconds(static_cast<long long>(ms));
}

std::string format_duration(std::chrono::milliseconds d) {
    const long long ms = d.count();
    if (ms != 0 && ms % 3'600'000 == 0) return fmt::format("{}h", ms / 3'600'000);
    if (ms != 0 && ms % 60'000 == 0) return fmt::format("{}m", ms / 60'000);
    if (ms != 0 && ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
    return fmt::format("{}ms", ms);
}

}  // namespace tandem
