// Mapping changed paths to what one service needs: the watch rules and build inputs they hit.
#pragma once

#include <tandem/spec.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tandem {

// A watch rule's command to run, and the changed paths that asked for it.
struct RunCommand {
    std::string command;
    std::vector<std::string> paths;
};

// What the changed paths ask of one service. `strongest` is only meaningful when `paths` is
// not empty.
struct ChangeMatch {
    WatchAction strongest = WatchAction::sync;
    std::vector<std::string> paths;       // every changed path the service cares about
    std::vector<std::string> sync_paths;  // those whose rule says sync
    std::vector<RunCommand> runs;         // run rules hit, by command, first hit first

    bool empty() const { return paths.empty(); }
};

// rebuild > run > restart > sync.
int strength(WatchAction action);

// Changed paths in sorted order, so that a pattern is tried only against the paths under its
// literal leading segments ("svc/api" of "svc/api/**"): a plan for many services and many
// changed paths then does not try every path against every pattern.
class ChangedPathIndex {
public:
    explicit ChangedPathIndex(const std::vector<std::string>& paths);
    const std::vector<std::string>& paths() const { return paths_; }
    // Adds the indexes of the paths `pattern` could match to `out`.
    void add_candidates(std::string_view pattern, std::vector<std::size_t>& out) const;

private:
    const std::vector<std::string>& paths_;
    std::vector<std::pair<std::string, std::size_t>> sorted_;  // normalized path, index in paths_
};

// The first watch rule of `service` that a path matches decides what the path asks for; a
// path that matches no rule but a build input asks for a rebuild.
ChangeMatch match_changes(const ServiceSpec& service, const std::vector<std::string>& changed_paths);
ChangeMatch match_changes(const ServiceSpec& service, const ChangedPathIndex& changed_paths);

// Where a changed file goes in a container under the sync rule that decides for it (the
// service's first watch rule it matches): the rule's `target` plus the file's path below the
// base of the pattern it matched, the pattern's leading segments free of glob characters (of a
// pattern without any, its parent): `web/**` with target /app puts web/js/a.js at /app/js/a.js.
// Also the rule's command, if any. None when the deciding rule is not a sync rule with a target.
struct SyncPlacement {
    std::string target;
    std::string command;
};
std::optional<SyncPlacement> sync_placement(const ServiceSpec& service, const std::string& path);

// "src/main.c changed" or "3 files changed".
std::string describe_changes(const std::vector<std::string>& paths);

}  // namespace tandem
