// The runtime-backed answers of the control socket, shared by every engine.
#include <tandem/runtime_control.hpp>

#include "api/log_followers.hpp"

namespace tandem {

RuntimeControl::RuntimeControl(Executor& runtime, std::function<void()> on_down)
    : runtime_(runtime), on_down_(std::move(on_down)), followers_(std::make_unique<LogFollowers>()) {}

RuntimeControl::~RuntimeControl() = default;

void RuntimeControl::publish(const RuntimeEvent& event) { followers_->publish(event); }

std::vector<ServiceStatus> RuntimeControl::status() { return runtime_.status(); }

std::vector<std::string> RuntimeControl::logs(const std::string& service, std::size_t count) {
    return runtime_.logs(service, count);
}

int RuntimeControl::follow_logs(const std::string& service, std::function<void(const std::string&)> sink) {
    return followers_->follow(service, std::move(sink));
}

void RuntimeControl::unfollow(int id) { followers_->unfollow(id); }

Status RuntimeControl::down() {
    if (on_down_) on_down_();
    return Ok{};
}

ControlHandler::ServiceRefusals RuntimeControl::refusals_of(const Spec& spec) {
    ServiceRefusals refused;
    for (const auto& service : spec.services)
        if (!service.reset && service.state.empty())  // a reset empties a service's state: directories
            refused[service.name]["reset"] =
                service.name + " has no reset command and no state: (add `reset:` to it in tandem.yaml)";
    return refused;
}

}  // namespace tandem
