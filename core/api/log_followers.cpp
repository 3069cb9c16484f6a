// Fan-out of log lines to `logs -f` clients.
#include "api/log_followers.hpp"

#include "runtime/process/log_store.hpp"

namespace tandem {

namespace {

// The same shape as the log files' lines: "2026-11-25T15:04:05.123Z api[3] err| text".
std::string format_event_line(const RuntimeEvent& e) {
    return process::format_log_line(process::LogLine{e.time, e.service, e.replica,
                                                     e.is_stderr ? process::LogStream::err : process::LogStream::out,
                                                     e.text});
}

}  // namespace

void LogFollowers::publish(const RuntimeEvent& event) {
    if (event.kind != RuntimeEventKind::log) return;
    std::lock_guard lock(mutex_);
    if (followers_.empty()) return;
    const std::string line = format_event_line(event);
    for (auto& [id, follower] : followers_)
        if (follower.first == event.service) follower.second(line);
}

int LogFollowers::follow(const std::string& service, Sink sink) {
    std::lock_guard lock(mutex_);
    const int id = next_id_++;
    followers_[id] = {service, std::move(sink)};
    return id;
}

void LogFollowers::unfollow(int id) {
    std::lock_guard lock(mutex_);
    followers_.erase(id);
}

}  // namespace tandem
