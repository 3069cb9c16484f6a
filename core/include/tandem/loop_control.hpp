// The engine's side of the control socket for devloop: status, logs and down from the
// runtime, reset and trigger through the running ReconcileLoop.
#pragma once

#include <tandem/reconcile_loop.hpp>
#include <tandem/runtime_control.hpp>

namespace tandem {

class LoopControl : public RuntimeControl {
public:
    // `on_down` is called (on a server thread) when a client asks the engine to stop.
    LoopControl(Executor& runtime, ReconcileLoop& loop, std::function<void()> on_down);

    std::string policy_name() override;
    Status reset(const std::string& service, const std::string& actor) override;
    Status trigger(const std::string& service, const std::string& actor) override;
    std::map<std::string, std::string> refused_actions() override;
    ServiceRefusals refused_service_actions() override;
    Counters counters() override;

private:
    ReconcileLoop& loop_;
};

}  // namespace tandem
