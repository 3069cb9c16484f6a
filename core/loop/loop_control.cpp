// The control socket's answers from a running reconcile loop (devloop up).
#include <tandem/loop_control.hpp>

namespace tandem {

LoopControl::LoopControl(ProcessRuntime& runtime, ReconcileLoop& loop, std::function<void()> on_down)
    : RuntimeControl(runtime, std::move(on_down)), loop_(loop) {}

std::string LoopControl::policy_name() { return loop_.policy_name(); }
Status LoopControl::reset(const std::string& service, const std::string&) { return loop_.reset(service); }
Status LoopControl::trigger(const std::string& service, const std::string&) { return loop_.trigger(service); }

}  // namespace tandem
