// Following crash restarts through runtime events (see crash_restarts.hpp).
#include "release/crash_restarts.hpp"

namespace tandem::release {

namespace {

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

}  // namespace

std::optional<CrashRestart> CrashRestarts::feed(const RuntimeEvent& event) {
    if (event.service.empty()) return std::nullopt;
    std::lock_guard lock(mutex_);
    if (event.kind == RuntimeEventKind::crash) {
        pending_[event.service] = Pending{event.text, {}};
        return std::nullopt;
    }
    auto it = pending_.find(event.service);
    if (it == pending_.end()) return std::nullopt;
    Pending& pending = it->second;
    if (event.kind == RuntimeEventKind::state && starts_with(event.text, "restarting in")) {
        pending.restarting = event.text;
        return std::nullopt;
    }
    // A crash that is not restarted (a rollout takes it over, or the policy reverts) is not one:
    // it waits here until the service's next crash replaces it.
    if (pending.restarting.empty()) return std::nullopt;
    const bool started = event.kind == RuntimeEventKind::state && starts_with(event.text, "replica ") &&
                         event.text.find(" started") != std::string::npos;
    const bool failed = event.kind == RuntimeEventKind::failure;
    if (!started && !failed) return std::nullopt;
    CrashRestart restart{event.service, started, pending.crash + "; " + pending.restarting + "; " + event.text};
    pending_.erase(it);
    return restart;
}

}  // namespace tandem::release
