// Rendering of errors and their locations.
#include <tandem/error.hpp>

#include <fmt/format.h>

namespace tandem {

std::string SourceLocation::to_string() const {
    if (file.empty() && line == 0) return {};
    std::string out = file;
    if (line > 0) {
        out += fmt::format(":{}", line);
        if (column > 0) out += fmt::format(":{}", column);
    }
    return out;
}

const char* to_string(ErrorCode code) {
    switch (code) {
        case ErrorCode::io: return "io";
        case ErrorCode::syntax: return "syntax";
        case ErrorCode::unknown_key: return "unknown_key";
        case ErrorCode::missing_field: return "missing_field";
        case ErrorCode::invalid_value: return "invalid_value";
        case ErrorCode::duplicate: return "duplicate";
        case ErrorCode::unknown_reference: return "unknown_reference";
        case ErrorCode::dependency_cycle: return "dependency_cycle";
        case ErrorCode::unknown_policy: return "unknown_policy";
        case ErrorCode::unknown_service: return "unknown_service";
        case ErrorCode::policy_denied: return "policy_denied";
        case ErrorCode::bootstrap_required: return "bootstrap_required";
        case ErrorCode::source: return "source";
        case ErrorCode::usage: return "usage";
        case ErrorCode::cancelled: return "cancelled";
        case ErrorCode::timed_out: return "timed_out";
        case ErrorCode::build_failed: return "build_failed";
        case ErrorCode::rollout_failed: return "rollout_failed";
        case ErrorCode::unavailable: return "unavailable";
        case ErrorCode::not_found: return "not_found";
        case ErrorCode::runtime: return "runtime";
    }
    return "error";
}

std::string Error::to_string() const {
    const std::string where = location.to_string();
    return where.empty() ? message : fmt::format("{}: {}", where, message);
}

}  // namespace tandem
