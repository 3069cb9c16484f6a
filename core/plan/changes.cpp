// Which watch rules and build inputs of a service the changed paths hit, and what they ask.
#include "plan/changes.hpp"

#include "support/glob.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <optional>

namespace tandem {

namespace {

bool matches_any(const std::vector<std::string>& patterns, const std::string& path) {
    return std::any_of(patterns.begin(), patterns.end(),
                       [&](const std::string& pattern) { return glob_match(pattern, path); });
}

std::string normalized(std::string_view text, bool literal_only);  // below

// The files whose change rebuilds an image: its `inputs`, else everything under its context
// ("**" for the project root).
std::vector<std::string> image_inputs(const ServiceSpec& service) {
    if (!service.container || !service.container->build) return {};
    if (service.container->build->inputs) return *service.container->build->inputs;
    const std::string context = normalized(service.container->build->context, false);
    return {context.empty() ? "**" : context + "/**"};
}

// Whether `rule` takes `path`: a pattern of `paths` matches it and none of `ignore` does.
bool takes(const WatchRule& rule, const std::string& path) {
    return matches_any(rule.paths, path) && !matches_any(rule.ignore, path);
}

// What a rule asks for, as strong as it is: `sync+restart` restarts (after its sync).
WatchAction asked(const WatchRule& rule) {
    return rule.action == WatchAction::sync && rule.restart_after_sync ? WatchAction::restart : rule.action;
}

// The rule that decides for `path`: the first watch rule it matches. A build input, or an
// input of an image build, counts as a rebuild rule placed after every watch rule.
std::optional<WatchRule> deciding_rule(const ServiceSpec& service, const std::string& path) {
    for (const WatchRule& rule : service.watch)
        if (takes(rule, path)) return rule;
    if (service.build && matches_any(service.build->inputs, path)) return WatchRule{{}, WatchAction::rebuild, {}, {}, {}};
    if (matches_any(image_inputs(service), path)) return WatchRule{{}, WatchAction::rebuild, {}, {}, {}};
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

namespace {

// The segments of a path or pattern joined by '/', without "." and empty ones; with
// `literal_only`, only the leading segments free of glob characters ("svc/api" of "svc/api/*.c").
std::string normalized(std::string_view text, bool literal_only) {
    std::string out;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('/', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view segment = text.substr(start, end - start);
        start = end + 1;
        if (segment.empty() || segment == ".") continue;
        if (literal_only && segment.find_first_of("*?[\\") != std::string_view::npos) break;
        if (!out.empty()) out += '/';
        out += segment;
    }
    return out;
}

}  // namespace

std::optional<SyncPlacement> sync_placement(const ServiceSpec& service, const std::string& path) {
    for (const WatchRule& rule : service.watch) {
        if (matches_any(rule.ignore, path)) continue;
        for (const std::string& pattern : rule.paths) {
            if (!glob_match(pattern, path)) continue;
            if (rule.action != WatchAction::sync || rule.target.empty()) return std::nullopt;
            std::string base = normalized(pattern, true);
            if (base == normalized(pattern, false)) base = std::filesystem::path(base).parent_path().string();
            const std::string file = normalized(path, false);
            std::string below = base.empty() ? file : file.substr(std::min(file.size(), base.size() + 1));
            std::string target = rule.target;
            if (target.back() != '/') target += '/';
            return SyncPlacement{target + below, rule.command};
        }
    }
    return std::nullopt;
}

ChangedPathIndex::ChangedPathIndex(const std::vector<std::string>& paths) : paths_(paths) {
    sorted_.reserve(paths.size());
    for (std::size_t i = 0; i < paths.size(); ++i) sorted_.emplace_back(normalized(paths[i], false), i);
    std::sort(sorted_.begin(), sorted_.end());
}

void ChangedPathIndex::add_candidates(std::string_view pattern, std::vector<std::size_t>& out) const {
    const std::string prefix = normalized(pattern, true);
    if (prefix.empty()) {
        for (std::size_t i = 0; i < paths_.size(); ++i) out.push_back(i);
        return;
    }
    // The path equal to the prefix, then those below it ("svc/api/..."): '/' sorts before the
    // other characters a longer name such as "svc/api2" could continue with, except a few
    // ('!' to '.'), so the range is scanned while the prefix holds.
    auto it = std::lower_bound(sorted_.begin(), sorted_.end(), std::make_pair(prefix, std::size_t{0}));
    for (; it != sorted_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
        const std::string& path = it->first;
        if (path.size() == prefix.size() || path[prefix.size()] == '/') out.push_back(it->second);
    }
}

ChangeMatch match_changes(const ServiceSpec& service, const std::vector<std::string>& changed_paths) {
    return match_changes(service, ChangedPathIndex(changed_paths));
}

ChangeMatch match_changes(const ServiceSpec& service, const ChangedPathIndex& index) {
    // Only paths some pattern of the service could match are tried, in their original order.
    std::vector<std::size_t> candidates;
    for (const WatchRule& rule : service.watch)
        for (const auto& pattern : rule.paths) index.add_candidates(pattern, candidates);
    if (service.build)
        for (const auto& pattern : service.build->inputs) index.add_candidates(pattern, candidates);
    for (const auto& pattern : image_inputs(service)) index.add_candidates(pattern, candidates);
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

    ChangeMatch match;
    for (std::size_t i : candidates) {
        const std::string& path = index.paths()[i];
        const auto rule = deciding_rule(service, path);
        if (!rule) continue;
        if (std::find(match.paths.begin(), match.paths.end(), path) != match.paths.end()) continue;
        if (match.paths.empty() || strength(asked(*rule)) > strength(match.strongest)) match.strongest = asked(*rule);
        match.paths.push_back(path);
        if (rule->action == WatchAction::sync) match.sync_paths.push_back(path);
        if (rule->action == WatchAction::run) add_run(match.runs, rule->command, path);
    }
    return match;
}

std::string describe_changes(const std::vector<std::string>& paths) {
    if (paths.empty()) return "files changed";
    if (paths.size() == 1) return paths.front() + " changed";
    return fmt::format("{} files changed", paths.size());
}

}  // namespace tandem
