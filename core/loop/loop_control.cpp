// The control socket's answers from a running runtime and reconcile loop.
#include <tandem/loop_control.hpp>

#include "api/log_followers.hpp"

namespace tandem {

LoopControl::LoopControl(ProcessRuntime& runtime, ReconcileLoop& loop, std::function<void()> on_down)
    : runtime_(runtime), loop_(loop), on_down_(std::move(on_down)), followers_(std::make_unique<LogFollowers>()) {}

LoopControl::~LoopControl() = default;

void LoopControl::publish(const RuntimeEvent& event) { followers_->publish(event); }

std::vector<ServiceStatus> LoopControl::status() { return runtime_.status(); }
std::string LoopControl::policy_name() { return loop_.policy_name(); }

std::vector<std::string> LoopControl::logs(const std::string& service, std::size_t count) {
    return runtime_.logs(service, count);
}

int LoopControl::follow_logs(const std::string& service, std::function<void(const std::string&)> sink) {
    return followers_->follow(service, std::move(sink));
}

void LoopControl::unfollow(int id) { followers_->unfollow(id); }

Status LoopControl::down() {
    if (on_down_) on_down_();
    return Ok{};
}

Status LoopControl::reset(const std::string& service, const std::string&) { return loop_.reset(service); }
Status LoopControl::trigger(const std::string& service, const std::string&) { return loop_.trigger(service); }

}  // namespace tandem
