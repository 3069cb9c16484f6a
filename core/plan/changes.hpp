// Mapping changed paths to what one service needs: the watch rules and build inputs they hit.
#pragma once

#include <tandem/spec.hpp>

#include <string>
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

// The first watch rule of `service` that a path matches decides what the path asks for; a
// path that matches no rule but a build input asks for a rebuild.
ChangeMatch match_changes(const ServiceSpec& service, const std::vector<std::string>& changed_paths);

// "src/main.c changed" or "3 files changed".
std::string describe_changes(const std::vector<std::string>& paths);

}  // namespace tandem
