// Formatting and parsing of UTC timestamps (log lines, replica records, audit and history).
#include <tandem/utc_time.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <ctime>

namespace tandem {

std::string format_utc(std::chrono::system_clock::time_point time) {
    using namespace std::chrono;
    const auto since_epoch = time.time_since_epoch();
    const auto whole_seconds = floor<seconds>(since_epoch);
    const auto millis = duration_cast<milliseconds>(since_epoch - whole_seconds).count();
    const std::time_t seconds_count = static_cast<std::time_t>(whole_seconds.count());
    std::tm utc{};
    gmtime_r(&seconds_count, &utc);
    char stamp[64];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(millis));
    return stamp;
}

Result<std::chrono::system_clock::time_point> parse_utc(std::string_view text) {
    std::tm utc{};
    int millis = 0;
    int consumed = 0;
    const std::string copy(text);
    const int fields = std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &utc.tm_year, &utc.tm_mon, &utc.tm_mday,
                                   &utc.tm_hour, &utc.tm_min, &utc.tm_sec, &consumed);
    std::string_view rest = fields == 6 ? text.substr(static_cast<std::size_t>(consumed)) : std::string_view{};
    if (fields == 6 && rest.size() == 5 && rest[0] == '.') {
        millis = std::atoi(std::string(rest.substr(1, 3)).c_str());
        rest = rest.substr(4);
    }
    if (fields != 6 || rest != "Z")
        return make_error(ErrorCode::invalid_value,
                          fmt::format("'{}' is not a UTC time like 2026-11-25T15:04:05.123Z", copy));
    utc.tm_year -= 1900;
    utc.tm_mon -= 1;
    const std::time_t seconds = timegm(&utc);
    return std::chrono::system_clock::from_time_t(seconds) + std::chrono::milliseconds(millis);
}

}  // namespace tandem
