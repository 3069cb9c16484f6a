// The control socket's answers from a running runtime and release loop (shipper run).
#include <tandem/release_control.hpp>

#include <nlohmann/json.hpp>

namespace tandem {

ReleaseControl::ReleaseControl(ProcessRuntime& runtime, ReleaseLoop& loop, std::function<void()> on_down)
    : RuntimeControl(runtime, std::move(on_down)), loop_(loop) {}

std::string ReleaseControl::policy_name() { return loop_.policy_name(); }

Status ReleaseControl::reset(const std::string& service, const std::string& actor) { return loop_.reset(service, actor); }
Status ReleaseControl::trigger(const std::string& service, const std::string& actor) {
    return loop_.trigger(service, actor);
}

Result<std::string> ReleaseControl::release_status() { return to_json(loop_.status(), -1); }

Result<std::string> ReleaseControl::sync(const std::string& actor) {
    auto outcome = loop_.sync("sync command by " + actor);
    if (!outcome) return outcome.error();
    return to_json(*outcome, -1);
}

Result<std::string> ReleaseControl::rollback(const std::string& revision, const std::string& actor) {
    auto outcome = loop_.rollback(revision, "rollback command by " + actor);
    if (!outcome) return outcome.error();
    return to_json(*outcome, -1);
}

Result<std::string> ReleaseControl::diff(const std::string& revision) {
    auto plan = loop_.diff(revision);
    if (!plan) return plan.error();
    return nlohmann::json{{"plan", nlohmann::json::parse(to_json(*plan, -1))}, {"table", format_table(*plan)}}.dump();
}

}  // namespace tandem
