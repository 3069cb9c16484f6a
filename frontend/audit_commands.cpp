// shipper audit verify|show|repair: they read (repair: append to) the state directory's audit
// log directly, so they work whether an engine runs or not (repair only when none holds the log).
#include "frontend/engine_location.hpp"
#include "frontend/output.hpp"
#include "frontend/release_commands.hpp"

#include <tandem/audit_checkpoint.hpp>
#include <tandem/audit_log.hpp>
#include <tandem/utc_time.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <pwd.h>
#include <unistd.h>

#include <iostream>

namespace tandem::cli {

namespace {

using nlohmann::json;

std::string pad(const std::string& text, std::size_t width) {
    return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

std::string audit_log_path(const Options& options) {
    return options.audit_log ? *options.audit_log : (locate_release_state(options).state_dir / "audit.jsonl").string();
}

// "audit repair command by user NAME (pid N)": this process's user, from the kernel.
std::string repair_actor() {
    passwd entry{};
    passwd* found = nullptr;
    char buffer[1024];
    std::string name = fmt::format("uid {}", ::geteuid());
    if (::getpwuid_r(::geteuid(), &entry, buffer, sizeof buffer, &found) == 0 && found) name = found->pw_name;
    return fmt::format("audit repair command by user {} (pid {})", name, ::getpid());
}

std::string repaired_note(const AuditRepairedBreak& repair) {
    return fmt::format(
        "line {} (seq {}): an audit repair closed the segment before it{}; what it found is in its message",
        repair.line, repair.seq,
        repair.problem.empty() ? std::string() : fmt::format(" (that segment's chain: {})", repair.problem));
}

json checkpoints_json(const Result<AuditCheckpointVerification>& checked) {
    if (!checked) return json{{"ok", false}, {"problem", checked.error().to_string()}};
    return json{{"ok", checked->ok}, {"checkpoints", checked->checkpoints}, {"last_seq", checked->last_seq},
                {"signers_checked", checked->signers_checked}, {"problem", checked->problem}};
}

// The checkpoint part of `audit verify` as text; false when it failed.
bool print_checkpoints(const Result<AuditCheckpointVerification>& checked, const Options& options,
                       const ToolDefaults& tool) {
    if (!checked || !checked->ok) {
        std::cerr << tool.program << ": checkpoints " << *options.checkpoints << ": "
                  << (checked ? checked->problem : checked.error().to_string()) << "\n";
        return false;
    }
    std::cout << *options.checkpoints << ": " << checked->checkpoints << " signed checkpoint(s) match the log (newest: seq "
              << checked->last_seq << "); "
              << (checked->signers_checked ? "signers checked against " + *options.allowed_signers
                                           : std::string("signatures valid, signers NOT checked (give --allowed-signers FILE)"))
              << "\n";
    return true;
}

int audit_verify(const Options& options, const ToolDefaults& tool) {
    const auto path = audit_log_path(options);
    if (!std::filesystem::exists(path)) {
        const std::string looked = options.audit_log ? "" : where_looked(locate_release_state(options));
        return report_error(
            make_error(ErrorCode::io, fmt::format("no audit log at {}{}", path,
                                                  looked.empty() ? " (see --state-dir, --audit-log)" : looked)),
            options, tool);
    }
    const AuditVerification result = AuditLog::verify(path);
    std::optional<Result<AuditCheckpointVerification>> checked;
    if (options.checkpoints)
        checked = verify_audit_checkpoints(path, *options.checkpoints,
                                           options.allowed_signers ? std::optional<std::filesystem::path>(*options.allowed_signers)
                                                                   : std::nullopt);
    const bool checkpoints_ok = !checked || (*checked && (*checked)->ok);
    if (options.output == OutputFormat::json) {
        json repairs = json::array();
        for (const auto& r : result.repairs) repairs.push_back({{"line", r.line}, {"seq", r.seq}, {"problem", r.problem}});
        json out{{"ok", result.ok && checkpoints_ok}, {"records", result.records}, {"bad_line", result.bad_line},
                 {"problem", result.problem}, {"file", path}, {"repairs", repairs}};
        if (checked) out["checkpoints"] = checkpoints_json(*checked);
        std::cout << out.dump(2) << "\n";
        return result.ok && checkpoints_ok ? 0 : 1;
    }
    if (result.ok) std::cout << path << ": " << result.records << " records, chain intact\n";
    else std::cerr << tool.program << ": " << path << ":" << result.bad_line << ": " << result.problem << "\n";
    for (const auto& repair : result.repairs) std::cout << "  " << repaired_note(repair) << "\n";
    const bool printed_ok = !checked || print_checkpoints(*checked, options, tool);
    return result.ok && printed_ok ? 0 : 1;
}

// A mark after a record: the first bad one, those after it, and repairs.
std::string mark(std::size_t line, const AuditVerification& verified) {
    for (const auto& repair : verified.repairs)
        if (repair.line == line) return "  << REPAIR: " + repaired_note(repair);
    if (verified.ok || verified.bad_line == 0 || line < verified.bad_line) return {};
    if (line == verified.bad_line) return "  << BAD: " + verified.problem;
    return fmt::format("  << UNVERIFIED (after the break at line {})", verified.bad_line);
}

int audit_show(const Options& options, const ToolDefaults& tool) {
    const auto path = audit_log_path(options);
    const AuditVerification verified = AuditLog::verify(path);
    auto records = AuditLog::read(path);
    if (!records) return report_error(records.error(), options, tool);
    const Error broken = make_error(ErrorCode::io, "the audit log does not verify: " + verified.problem,
                                    SourceLocation{path, static_cast<int>(verified.bad_line), 0});
    if (options.output == OutputFormat::json) {
        for (const auto& record : *records) std::cout << record.line << "\n";
        return verified.ok ? 0 : report_error(broken, options, tool);
    }
    for (std::size_t i = 0; i < records->size(); ++i) {
        const auto& e = (*records)[i].entry;
        std::cout << pad(std::to_string((*records)[i].seq), 6) << pad(format_utc(e.time), 25) << pad(to_string(e.event), 15)
                  << pad(to_string(e.outcome), 10) << pad(e.commit.substr(0, 12), 13) << e.actor;
        if (e.incident) std::cout << "  INCIDENT";
        std::cout << mark(i + 1, verified) << "\n";
        for (const auto& s : e.services)
            std::cout << "      " << pad(s.service, 12) << pad(s.change, 9) << (s.old_digest.empty() ? "-" : s.old_digest.substr(0, 15))
                      << " -> " << (s.new_digest.empty() ? "-" : s.new_digest.substr(0, 15))
                      << (s.build.empty() ? "" : "  " + s.build + " (key " + s.build_key.substr(0, 15) + ")") << "\n";
        if (!e.message.empty()) std::cout << "      " << e.message << "\n";
    }
    return verified.ok ? 0 : report_error(broken, options, tool);
}

int audit_repair(const Options& options, const ToolDefaults& tool) {
    if (!options.reason || options.reason->empty())
        return report_error(make_error(ErrorCode::usage, "audit repair needs --reason TEXT: why the break is accepted "
                                                         "(it goes into the repair record)"),
                            options, tool);
    const auto path = audit_log_path(options);
    auto repaired = AuditLog::repair(path, repair_actor(), *options.reason);
    if (!repaired) return report_error(repaired.error(), options, tool);
    if (options.output == OutputFormat::json) {
        std::cout << (*repaired ? (*repaired)->line : json{{"repaired", false}, {"file", path}}.dump()) << "\n";
        return 0;
    }
    if (!*repaired) std::cout << path << ": chain intact, nothing to repair\n";
    else std::cout << path << ": recorded as seq " << (*repaired)->seq << ": " << (*repaired)->entry.message << "\n";
    return 0;
}

}  // namespace

int audit_command(const Options& options, const ToolDefaults& tool) {
    const std::string what = options.operands.empty() ? "" : options.operands.front();
    if (options.operands.size() != 1 || (what != "verify" && what != "show" && what != "repair"))
        return report_error(make_error(ErrorCode::usage, "audit takes `verify`, `show` or `repair`"), options, tool);
    if (what == "repair") return audit_repair(options, tool);
    return what == "verify" ? audit_verify(options, tool) : audit_show(options, tool);
}

}  // namespace tandem::cli
