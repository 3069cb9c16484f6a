// The release history file: kept revisions, the deployed one, the pin, rejected commits.
#include <tandem/release_history.hpp>

#include "support/durable_file.hpp"
#include <tandem/utc_time.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace tandem {

namespace {

using nlohmann::json;

constexpr int kHistoryVersion = 1;

json record_json(const ReleaseRecord& r) {
    return json{{"commit", r.commit},   {"author", r.author},
                {"subject", r.subject}, {"deployed", format_utc(r.deployed)},
                {"actor", r.actor},     {"how", to_string(r.how)},
                {"artifacts", r.artifacts}};
}

Result<ReleaseRecord> record_from_json(const json& j, const std::filesystem::path& file) {
    ReleaseRecord r;
    r.commit = j.at("commit").get<std::string>();
    r.author = j.value("author", "");
    r.subject = j.value("subject", "");
    auto time = parse_utc(j.value("deployed", ""));
    if (!time) return make_error(ErrorCode::invalid_value, "release " + r.commit + ": " + time.error().message,
                                 SourceLocation{file.string(), 0, 0});
    r.deployed = *time;
    r.actor = j.value("actor", "");
    const std::string how = j.value("how", "deploy");
    const auto known = parse_change_event(how);
    if (!known || *known == ChangeEvent::none)
        return make_error(ErrorCode::invalid_value, "corrupt release history: release " + r.commit + ": unknown how '" +
                                                        how + "'", SourceLocation{file.string(), 0, 0});
    r.how = *known;
    r.artifacts = j.value("artifacts", std::map<std::string, std::string>{});
    return r;
}

json history_json(const ReleaseHistory& h) {
    json releases = json::array();
    for (const auto& r : h.releases) releases.push_back(record_json(r));
    json rejections = json::array();
    for (const auto& r : h.rejections) rejections.push_back(record_json(r));
    return json{{"version", kHistoryVersion}, {"deployed", h.deployed},       {"previous", h.previous},
                {"pinned", h.pinned},         {"pinned_head", h.pinned_head}, {"rejected", h.rejected},
                {"running_from", h.running_from}, {"releases", releases},
                {"rejections", rejections}, {"deploying", h.deploying},
                {"interrupted_commit", h.interrupted_commit}, {"interrupted_deploys", h.interrupted_deploys}};
}

}  // namespace

const ReleaseRecord* ReleaseHistory::find(const std::string& commit_or_prefix) const {
    if (commit_or_prefix.empty()) return nullptr;
    const ReleaseRecord* found = nullptr;
    for (const auto& r : releases) {
        if (r.commit.rfind(commit_or_prefix, 0) != 0) continue;
        if (found && found->commit != r.commit) return nullptr;  // ambiguous
        found = &r;
    }
    return found;
}

void ReleaseHistory::add(ReleaseRecord record, int keep) {
    std::erase_if(releases, [&](const ReleaseRecord& r) { return r.commit == record.commit; });
    releases.insert(releases.begin(), std::move(record));
    const auto limit = static_cast<std::size_t>(std::max(keep, 1));  // the deployed one is always known
    if (releases.size() > limit) releases.resize(limit);
}

void ReleaseHistory::reject(ReleaseRecord record, const std::string& why, int keep) {
    rejected[record.commit] = why;
    record.how = ChangeEvent::rejected;
    std::erase_if(rejections, [&](const ReleaseRecord& r) { return r.commit == record.commit; });
    rejections.insert(rejections.begin(), std::move(record));
    const auto limit = static_cast<std::size_t>(std::max(keep, 1));
    if (rejections.size() > limit) rejections.resize(limit);
}

Result<ReleaseHistory> ReleaseHistory::load(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return ReleaseHistory{};
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return make_error(ErrorCode::io, "cannot read the release history", SourceLocation{file.string(), 0, 0});
    const json j = json::parse(text.str(), nullptr, false);
    auto corrupt = [&](const std::string& why) {
        return make_error(ErrorCode::invalid_value, "corrupt release history: " + why, SourceLocation{file.string(), 0, 0});
    };
    if (j.is_discarded() || !j.is_object()) return corrupt("not a JSON object");
    if (j.value("version", 0) != kHistoryVersion)
        return corrupt("version " + j.value("version", json(0)).dump() + " (this shipper reads version 1)");
    try {
        ReleaseHistory h;
        h.deployed = j.value("deployed", "");
        h.previous = j.value("previous", "");
        h.pinned = j.value("pinned", false);
        h.pinned_head = j.value("pinned_head", "");
        h.rejected = j.value("rejected", std::map<std::string, std::string>{});
        h.running_from = j.value("running_from", std::map<std::string, std::string>{});
        h.deploying = j.value("deploying", "");
        h.interrupted_commit = j.value("interrupted_commit", "");
        h.interrupted_deploys = j.value("interrupted_deploys", 0);
        for (const auto& item : j.at("releases")) {
            auto record = record_from_json(item, file);
            if (!record) return record.error();
            h.releases.push_back(std::move(*record));
        }
        for (const auto& item : j.value("rejections", json::array())) {
            auto record = record_from_json(item, file);
            if (!record) return record.error();
            h.rejections.push_back(std::move(*record));
        }
        return h;
    } catch (const json::exception& e) {
        return corrupt(e.what());
    }
}

Status ReleaseHistory::save(const std::filesystem::path& file) const {
    return replace_file_durably(file, history_json(*this).dump(2) + "\n");
}

std::string to_json(const ReleaseHistory& history, int indent) { return history_json(history).dump(indent); }

}  // namespace tandem
