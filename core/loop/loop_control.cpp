// The control socket's answers from a running reconcile loop (devloop up).
#include <tandem/loop_control.hpp>

namespace tandem {

LoopControl::LoopControl(Executor& runtime, ReconcileLoop& loop, std::function<void()> on_down)
    : RuntimeControl(runtime, std::move(on_down)), loop_(loop) {}

std::string LoopControl::policy_name() { return loop_.policy_name(); }
Status LoopControl::reset(const std::string& service, const std::string&) { return loop_.reset(service); }
Status LoopControl::trigger(const std::string& service, const std::string&) { return loop_.trigger(service); }

std::map<std::string, std::string> LoopControl::refused_actions() {
    std::map<std::string, std::string> refused;
    const PolicySet policy = loop_.policy();
    if (policy.database.reset == Permission::deny)
        refused["reset"] = "policy '" + policy.name + "' denies database.reset";
    return refused;
}

ControlHandler::ServiceRefusals LoopControl::refused_service_actions() { return refusals_of(loop_.spec()); }

ControlHandler::Counters LoopControl::counters() { return Counters{loop_.stats().passes, 0}; }

}  // namespace tandem
