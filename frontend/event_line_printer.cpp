// EventLinePrinter: `run`'s lines (see the header).
#include "frontend/event_line_printer.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <ctime>
#include <ostream>

namespace tandem::cli {

namespace {

std::string local_clock(std::chrono::system_clock::time_point time) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm local{};
    localtime_r(&seconds, &local);
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "%02d:%02d:%02d.%03d", local.tm_hour, local.tm_min, local.tm_sec,
                  static_cast<int>(ms % 1000));
    return stamp;
}

}  // namespace

void EventLinePrinter::print(const RuntimeEvent& e) {
    std::lock_guard lock(mutex_);
    if (json_) {
        out_ << to_json(e) << std::endl;
        return;
    }
    if (e.kind == RuntimeEventKind::log) {
        out_ << format_log_line(e) << std::endl;
        return;
    }
    const auto time = e.time == std::chrono::system_clock::time_point{} ? std::chrono::system_clock::now() : e.time;
    std::string who = e.service.empty() ? tool_ : e.service;
    if (!e.service.empty() && e.replica > 0) who += fmt::format("[{}]", e.replica);
    (e.is_stderr ? err_ : out_) << local_clock(time) << " " << who << ": " << e.text << std::endl;
}

}  // namespace tandem::cli
