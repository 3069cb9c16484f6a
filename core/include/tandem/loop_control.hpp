// The engine's side of the control socket: answers status, logs, down, reset and trigger from a
// running ProcessRuntime and ReconcileLoop.
#pragma once

#include <tandem/control.hpp>
#include <tandem/reconcile_loop.hpp>
#include <tandem/runtime.hpp>

#include <functional>
#include <memory>

namespace tandem {

class LogFollowers;

class LoopControl : public ControlHandler {
public:
    // `on_down` is called (on a server thread) when a client asks the engine to stop.
    LoopControl(ProcessRuntime& runtime, ReconcileLoop& loop, std::function<void()> on_down);
    ~LoopControl() override;

    // Feed every runtime event here so that followers of a service's logs get its lines.
    void publish(const RuntimeEvent& event);

    std::vector<ServiceStatus> status() override;
    std::string policy_name() override;
    std::vector<std::string> logs(const std::string& service, std::size_t count) override;
    int follow_logs(const std::string& service, std::function<void(const std::string&)> sink) override;
    void unfollow(int id) override;
    Status down() override;
    Status reset(const std::string& service, const std::string& actor) override;
    Status trigger(const std::string& service, const std::string& actor) override;

private:
    ProcessRuntime& runtime_;
    ReconcileLoop& loop_;
    std::function<void()> on_down_;
    std::unique_ptr<LogFollowers> followers_;
};

}  // namespace tandem
