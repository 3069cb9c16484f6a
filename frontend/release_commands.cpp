// The commands of a git source that read the state directory, so they work whether an engine
// runs or not: history (audit: audit_commands.cpp); and the release part of `status`.
#include "frontend/release_commands.hpp"

#include "frontend/engine_location.hpp"
#include "frontend/output.hpp"

#include <tandem/release_history.hpp>
#include <tandem/utc_time.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>

namespace tandem::cli {

namespace {

using nlohmann::json;

std::string short_id(const std::string& commit) { return commit.substr(0, 12); }

std::string pad(const std::string& text, std::size_t width) {
    return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

}  // namespace

std::filesystem::path release_state_dir(const Options& options) {
    return std::filesystem::absolute(options.state_dir.value_or(".shipper")).lexically_normal();
}

int history_command(const Options& options, const ToolDefaults& tool) {
    const EngineLocation state = locate_release_state(options);
    const auto file = state.state_dir / "releases.json";
    auto history = ReleaseHistory::load(file);
    if (!history) return report_error(history.error(), options, tool);
    if (options.output == OutputFormat::json) {
        std::cout << to_json(*history) << "\n";
        return 0;
    }
    if (history->releases.empty()) {
        std::cout << "nothing deployed yet (" << file.string() << ")" << where_looked(state) << "\n";
        return 0;
    }
    std::cout << "  " << pad("COMMIT", 13) << pad("WHEN", 25) << pad("HOW", 10) << pad("BY", 28) << "SUBJECT\n";
    // Kept releases and rejected commits, newest first: what ran, and what was tried and why not.
    std::vector<const ReleaseRecord*> rows;
    for (const auto& r : history->releases) rows.push_back(&r);
    for (const auto& r : history->rejections)
        if (!history->find(r.commit)) rows.push_back(&r);
    std::stable_sort(rows.begin(), rows.end(), [](auto* a, auto* b) { return a->deployed > b->deployed; });
    for (const ReleaseRecord* r : rows) {
        const bool current = r->commit == history->deployed;
        std::cout << (current ? "* " : "  ") << pad(short_id(r->commit), 13) << pad(format_utc(r->deployed), 25)
                  << pad(to_string(r->how), 10) << pad(r->actor.substr(0, 27), 28) << r->subject;
        if (current && history->pinned) std::cout << "  [pinned until a newer commit]";
        if (auto it = history->rejected.find(r->commit); it != history->rejected.end()) std::cout << "  [" << it->second << "]";
        std::cout << "\n";
    }
    return 0;
}

bool print_release_status(const std::string& release_json, const Options&) {
    const json j = json::parse(release_json, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.contains("error")) return false;
    std::cout << "repository: " << j.value("repository", "") << " (" << j.value("ref", "") << ")\n";
    const std::string deployed = j.value("deployed", "");
    std::cout << "deployed:   "
              << (deployed.empty() ? "nothing yet"
                                   : fmt::format("{} {}", short_id(deployed), j.value("deployed_subject", "")));
    if (j.value("pinned", false)) std::cout << "  [pinned by a rollback until a newer commit arrives]";
    std::cout << "\n";
    const std::string head = j.value("head", "");
    const std::string rejected = j.value("head_rejected", "");
    if (!head.empty() && head != deployed)
        std::cout << "head:       " << short_id(head)
                  << (!rejected.empty()             ? " rejected: " + rejected
                      : j.value("pinned", false)    ? " (held by the rollback pin)"
                      : j.value("busy", false)      ? " (deploying)"
                                                    : " (not deployed yet)")
                  << "\n";
    if (!j.value("revert_window_ends", "").empty())
        std::cout << "watching:   errors until " << j.value("revert_window_ends", "") << " (auto revert)\n";
    if (j.value("busy", false)) std::cout << "busy:       a change is under way\n";
    if (!j.value("last_error", "").empty()) std::cout << "last error: " << j.value("last_error", "") << "\n";
    return true;
}

}  // namespace tandem::cli
