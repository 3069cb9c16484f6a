// The disk source's watcher: inotify on every directory of the project that its ignore rules
// do not exclude, new directories picked up as they appear, moves and deletes reported.
// A save is delivered as one change, as soon as it has settled, with no fixed debounce: a write
// to an existing file at once; a temp file renamed over the file (sed -i, JetBrains, mv) as the
// rename's target alone; a file moved away and written anew (vim) once it is back; a new or
// deleted file after 50 ms without events (it may be half of a rename); what a git checkout
// writes, once git releases its index lock. Coalescing passes is the caller's job.
#pragma once

#include <tandem/error.hpp>
#include <tandem/ignore.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tandem {

struct WatchStats {
    std::size_t directories = 0;       // directories with a watch
    std::size_t unwatched = 0;         // directories left out because the watch limit was hit
};

class DiskWatcher {
public:
    // Relative paths of files (and directories) that were created, modified, deleted or moved,
    // ignored ones left out. Called on the watcher's own thread.
    using ChangeHandler = std::function<void(std::vector<std::string> paths)>;
    // Problems worth telling the user, e.g. the inotify watch limit (with the sysctl to raise),
    // or an event queue overflow (after which every file counts as changed). Watching goes on.
    using ProblemHandler = std::function<void(const Error& problem)>;

    // Watches `rules.root()` recursively. `rules` must outlive the watcher; the watcher reloads
    // it when an ignore file changes.
    static Result<std::unique_ptr<DiskWatcher>> start(IgnoreRules& rules, ChangeHandler on_change,
                                                      ProblemHandler on_problem);
    ~DiskWatcher();  // stops the thread and closes the inotify descriptor

    WatchStats stats() const;

    struct State;
    explicit DiskWatcher(std::unique_ptr<State> state);

private:
    std::unique_ptr<State> state_;
};

}  // namespace tandem
