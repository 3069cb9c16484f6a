// Audit records to and from their JSON lines.
#include "audit/audit_line.hpp"

#include <tandem/utc_time.hpp>

#include <nlohmann/json.hpp>

#include <charconv>

namespace tandem::audit {

namespace {

constexpr std::string_view kSeqKey = "{\"seq\":";
constexpr std::string_view kPrevKey = ",\"prev\":\"";
constexpr std::string_view kSegmentKey = "\"segment\":\"";
constexpr std::size_t kHexDigits = 64;

bool is_hex(std::string_view text) {
    for (const char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

nlohmann::ordered_json entry_json(const AuditEntry& entry) {
    nlohmann::ordered_json services = nlohmann::ordered_json::array();
    for (const auto& s : entry.services) {
        nlohmann::ordered_json service{{"service", s.service}, {"old_digest", s.old_digest},
                                       {"new_digest", s.new_digest}, {"change", s.change}};
        if (!s.build.empty()) service["build"] = s.build;
        if (!s.build_key.empty()) service["build_key"] = s.build_key;
        if (!s.replicas.empty()) service["replicas"] = s.replicas;
        services.push_back(std::move(service));
    }
    nlohmann::ordered_json j{{"time", format_utc(entry.time)},
                             {"event", to_string(entry.event)},
                             {"actor", entry.actor},
                             {"commit", entry.commit},
                             {"author", entry.author},
                             {"subject", entry.subject},
                             {"previous_commit", entry.previous_commit},
                             {"services", std::move(services)},
                             {"outcome", to_string(entry.outcome)},
                             {"message", entry.message},
                             {"incident", entry.incident}};
    if (entry.build_ms >= 0) j["build_ms"] = entry.build_ms;
    if (entry.rollout_ms >= 0) j["rollout_ms"] = entry.rollout_ms;
    if (entry.total_ms >= 0) j["total_ms"] = entry.total_ms;
    return j;
}

// Throws nlohmann::json exceptions (a wrong type) and std::invalid_argument (a bad time, an unknown
// event or outcome).
AuditEntry entry_from_json(const nlohmann::json& j) {
    AuditEntry entry;
    const auto time = parse_utc(j.at("time").get<std::string>());
    if (!time) throw std::invalid_argument(time.error().message);
    entry.time = *time;
    // A spelling no version writes is an error; a key left out (no version leaves one out, but a
    // hand-appended record may, and `audit show` must still list it to mark it) keeps the default.
    if (j.contains("event")) {
        const std::string event = j.at("event").get<std::string>();
        const auto known = parse_change_event(event);
        if (!known) throw std::invalid_argument("unknown event '" + event + "'");
        entry.event = *known;
    }
    if (j.contains("outcome")) {
        const std::string outcome = j.at("outcome").get<std::string>();
        const auto known = parse_change_outcome(outcome);
        if (!known) throw std::invalid_argument("unknown outcome '" + outcome + "'");
        entry.outcome = *known;
    }
    for (auto [field, key] : {std::pair{&entry.actor, "actor"}, {&entry.commit, "commit"}, {&entry.author, "author"},
                              {&entry.subject, "subject"}, {&entry.previous_commit, "previous_commit"},
                              {&entry.message, "message"}})
        *field = j.value(key, std::string{});
    for (const auto& s : j.value("services", nlohmann::json::array())) {
        entry.services.push_back({s.value("service", ""), s.value("old_digest", ""), s.value("new_digest", ""),
                                  s.value("change", ""), s.value("build", ""), s.value("build_key", "")});
        for (const auto& replica : s.value("replicas", nlohmann::json::array()))
            if (replica.is_string()) entry.services.back().replicas.push_back(replica.get<std::string>());
    }
    entry.incident = j.value("incident", false);
    entry.build_ms = j.value("build_ms", std::int64_t{-1});
    entry.rollout_ms = j.value("rollout_ms", std::int64_t{-1});
    entry.total_ms = j.value("total_ms", std::int64_t{-1});
    return entry;
}

}  // namespace

std::optional<LinePrefix> parse_line_prefix(std::string_view line) {
    if (!line.starts_with(kSeqKey) || line.back() != '}') return std::nullopt;
    LinePrefix prefix;
    const char* digits = line.data() + kSeqKey.size();
    const auto [end, error] = std::from_chars(digits, line.data() + line.size(), prefix.seq);
    if (error != std::errc{} || end == digits) return std::nullopt;
    std::string_view rest = line.substr(static_cast<std::size_t>(end - line.data()));
    if (!rest.starts_with(kPrevKey)) return std::nullopt;
    rest.remove_prefix(kPrevKey.size());
    const std::size_t quote = rest.starts_with('"') ? 0 : kHexDigits;
    if (rest.size() < quote + 3 || rest.substr(quote, 2) != "\",") return std::nullopt;
    prefix.prev = rest.substr(0, quote);
    if (!is_hex(prefix.prev)) return std::nullopt;
    rest.remove_prefix(quote + 2);
    if (rest.starts_with(kSegmentKey)) {
        rest.remove_prefix(kSegmentKey.size());
        if (rest.size() < kHexDigits + 3 || rest.substr(kHexDigits, 2) != "\",") return std::nullopt;
        prefix.segment = rest.substr(0, kHexDigits);
        if (!is_hex(prefix.segment)) return std::nullopt;
    }
    return prefix;
}

std::string format_line(std::uint64_t seq, std::string_view prev, const AuditEntry& entry, std::string_view segment) {
    // Invalid UTF-8 (a commit subject in Latin-1) is replaced, not refused: the record must be written.
    const std::string members = entry_json(entry).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::string line;
    line.reserve(kSeqKey.size() + 24 + kPrevKey.size() + prev.size() + members.size());
    line.append(kSeqKey).append(std::to_string(seq)).append(kPrevKey).append(prev).append("\",");
    if (!segment.empty()) line.append(kSegmentKey).append(segment).append("\",");
    line.append(std::string_view(members).substr(1));  // members without their opening '{'
    return line;
}

Result<AuditRecord> parse_line(std::string_view line, const std::filesystem::path& file, std::size_t line_number) {
    const auto prefix = parse_line_prefix(line);
    const SourceLocation where{file.string(), static_cast<int>(line_number), 0};
    if (!prefix) return make_error(ErrorCode::syntax, "not an audit record (no {\"seq\":N,\"prev\":\"...\", prefix)", where);
    try {
        AuditRecord record;
        record.seq = prefix->seq;
        record.prev = std::string(prefix->prev);
        record.segment = std::string(prefix->segment);
        record.entry = entry_from_json(nlohmann::json::parse(line));
        record.line = std::string(line);
        return record;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::syntax, std::string("not a readable audit record: ") + e.what(), where);
    }
}

}  // namespace tandem::audit

namespace tandem {

std::string to_json(const AuditRecord& record) {
    return record.line.empty() ? audit::format_line(record.seq, record.prev, record.entry, record.segment) : record.line;
}

}  // namespace tandem
