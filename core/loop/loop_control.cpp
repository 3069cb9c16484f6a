// The control socket's answers from a running runtime and reconcile loop.
#include <tandem/loop_control.hpp>

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

LoopControl::LoopControl(ProcessRuntime& runtime, ReconcileLoop& loop, std::function<void()> on_down)
    : runtime_(runtime), loop_(loop), on_down_(std::move(on_down)) {}

void LoopControl::publish(const RuntimeEvent& event) {
    if (event.kind != RuntimeEventKind::log) return;
    std::lock_guard lock(mutex_);
    if (followers_.empty()) return;
    const std::string line = format_event_line(event);
    for (auto& [id, follower] : followers_)
        if (follower.first == event.service) follower.second(line);
}

std::vector<ServiceStatus> LoopControl::status() { return runtime_.status(); }
std::string LoopControl::policy_name() { return loop_.policy_name(); }

std::vector<std::string> LoopControl::logs(const std::string& service, std::size_t count) {
    return runtime_.logs(service, count);
}

int LoopControl::follow_logs(const std::string& service, std::function<void(const std::string&)> sink) {
    std::lock_guard lock(mutex_);
    const int id = next_id_++;
    followers_[id] = {service, std::move(sink)};
    return id;
}

void LoopControl::unfollow(int id) {
    std::lock_guard lock(mutex_);
    followers_.erase(id);
}

Status LoopControl::down() {
    if (on_down_) on_down_();
    return Ok{};
}

Status LoopControl::reset(const std::string& service) { return loop_.reset(service); }
Status LoopControl::trigger(const std::string& service) { return loop_.trigger(service); }

}  // namespace tandem
