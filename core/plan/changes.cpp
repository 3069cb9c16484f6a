// Which watch rules and build inputs of a service the changed paths hit, and what they ask.
#include "plan/changes.hpp"

#include "support/glob.hpp"

#include <algorithm>
#include <optional>

namespace tandem {

namespace {

bool matches_any(const std::vector<std::string>& patterns, const std::string& path) {
    return std::any_of(patterns.begin(), patterns.end(),
                       [&](const std::string& pattern) { return glob_match(pattern, path); });
}

// The rule that decides for `path`: the first watch rule it matches. A build input counts as a
// rebuild rule placed after every watch rule.
std::optional<WatchRule> deciding_rule(const ServiceSpec& service, const std::string& path) {
    for (const WatchRule& rule : service.watch)
        if (matches_any(rule.paths, path)) return rule;
    if (service.build && matches_any(service.build->inputs, path)) return WatchRule{{}, WatchAction::rebuild, {}, {}};
    return std::nullopt;
}

void add_run(std::vector<RunCommand>& runs, const std::string& command, const std::string& path) {
    for (RunCommand& run : runs) {
        if (run.command == command) {
            run.paths.push_back(path);
            return;
        }
    }
    runs.push_back(RunCommand{command, {path}});
}

}  // namespace

int strength(WatchAction action) {
    switch (action) {
        case WatchAction::sync: return 0;
        case WatchAction::restart: return 1;
        case WatchAction::run: return 2;
        case WatchAction::rebuild: return 3;
    }
    return 3;
}

ChangeMatch match_changes(const ServiceSpec& service, const std::vector<std::string>& changed_paths) {
    ChangeMatch match;
    for (const std::string& path : changed_paths) {
        const auto rule = deciding_rule(service, path);
        if (!rule) continue;
        if (std::find(match.paths.begin(), match.paths.end(), path) != match.paths.end()) continue;
        if (match.paths.empty() || strength(rule->action) > strength(match.strongest)) match.strongest = rule->action;
        match.paths.push_back(path);
        if (rule->action == WatchAction::sync) match.sync_paths.push_back(path);
        if (rule->action == WatchAction::run) add_run(match.runs, rule->command, path);
    }
    return match;
}

std::string describe_changes(const std::vector<std::string>& paths) {
    if (paths.empty()) return "files changed";
    if (paths.size() == 1) return paths.front() + " changed";
    return std::to_string(paths.size()) + " files changed";
}

}  // namespace tandem
