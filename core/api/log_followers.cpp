// Fan-out of log lines to `logs -f` clients.
#include "api/log_followers.hpp"

#include <tandem/runtime.hpp>

namespace tandem {

void LogFollowers::publish(const RuntimeEvent& event) {
    if (event.kind != RuntimeEventKind::log) return;
    std::lock_guard lock(mutex_);
    if (followers_.empty()) return;
    const std::string line = format_log_line(event);
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
