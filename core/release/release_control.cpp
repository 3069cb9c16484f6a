// The control socket's answers from a running runtime and release loop (shipper run).
#include <tandem/release_control.hpp>

#include <tandem/audit_log.hpp>

#include <nlohmann/json.hpp>

namespace tandem {

ReleaseControl::ReleaseControl(Executor& runtime, ReleaseLoop& loop, std::function<void()> on_down)
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

Result<std::string> ReleaseControl::audit_trail(std::size_t count) {
    const auto path = loop_.audit_path();
    if (path.empty()) return make_error(ErrorCode::policy_denied, "policy '" + loop_.policy_name() + "' keeps no audit log");
    auto records = AuditLog::read(path);
    if (!records) return records.error();
    const std::size_t from = records->size() > count ? records->size() - count : 0;
    auto list = nlohmann::json::array();
    for (std::size_t i = from; i < records->size(); ++i) list.push_back(nlohmann::json::parse(to_json((*records)[i])));
    return list.dump();
}

std::map<std::string, std::string> ReleaseControl::refused_actions() {
    std::map<std::string, std::string> refused;
    const ReleaseStatus status = loop_.status();
    const PolicySet policy = loop_.policy();
    if (policy.database.reset == Permission::deny)
        refused["reset"] = "policy '" + policy.name + "' denies database.reset";
    if (policy.history.keep == 0) refused["rollback"] = "policy '" + policy.name + "' keeps no history (history.keep: 0)";
    else if (status.history.previous.empty()) refused["rollback"] = "no earlier release is kept";
    if (status.deployed.empty()) {
        refused["trigger"] = "nothing is deployed yet";
        refused["restart"] = "nothing is deployed yet";
        refused["reset"] = refused.count("reset") ? refused["reset"] : "nothing is deployed yet";
    }
    return refused;
}

ControlHandler::ServiceRefusals ReleaseControl::refused_service_actions() {
    const auto spec = loop_.deployed_spec();
    return spec ? refusals_of(*spec) : ServiceRefusals{};
}

ControlHandler::Counters ReleaseControl::counters() {
    const ReleaseStatus status = loop_.status();
    return Counters{status.deploys, status.audit_records};
}

}  // namespace tandem
