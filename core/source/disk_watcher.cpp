// DiskWatcher: one inotify descriptor watched by its own thread, which turns kernel events into
// batches of relative paths (ignored ones dropped, duplicates merged) and hands each path over
// as soon as it has settled (SettlingPaths: one save, one change). Directories are watched as
// they appear; ignore-file edits reload the rules and re-scan which directories count.
#include <tandem/watch.hpp>

#include "source/settling_paths.hpp"
#include "source/tree_walk.hpp"
#include "source/watched_directories.hpp"

#include <fmt/format.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <fstream>
#include <unordered_set>

namespace tandem {
namespace {

// A save is settled by its IN_CLOSE_WRITE; IN_MODIFY says a file is open for writing until then
// (so an IN_ATTRIB meanwhile is part of the save); IN_ATTRIB alone makes `touch file` count;
// creates, moves and deletes give the tree's shape.
constexpr std::uint32_t kWatchMask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM |
                                     IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW;
constexpr const char* kGitInfo = ".git/info";
constexpr const char* kGitIndexLock = "index.lock";

bool is_plain_file(const std::filesystem::path& path) {
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

// The repository's git directory: `.git`, or where a worktree's `.git` file points.
std::filesystem::path git_directory(const std::filesystem::path& root) {
    const auto dot_git = root / ".git";
    std::ifstream file(dot_git);
    std::string line;
    if (std::filesystem::is_directory(dot_git) || !std::getline(file, line) || line.rfind("gitdir: ", 0) != 0)
        return dot_git;
    const std::filesystem::path target = line.substr(8);
    return target.is_absolute() ? target : root / target;
}

// Milliseconds until `deadline` for poll(), rounded up; -1 (wait for ever) without one.
int poll_timeout(std::optional<std::chrono::steady_clock::time_point> deadline) {
    if (!deadline) return -1;
    const auto left = *deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return 0;
    return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
}

}  // namespace

struct DiskWatcher::State {
    IgnoreRules& rules;
    ChangeHandler on_change;
    ProblemHandler on_problem;
    int inotify_fd = -1;
    int wake_fd = -1;     // an eventfd written to stop the thread
    int git_info_watch = -1;  // .git/info, watched only for changes of `exclude`
    int git_dir_watch = -1;   // .git, watched only for its index lock (a checkout in progress)
    detail::WatchedDirectories watches;
    detail::SettlingPaths settling;
    bool limit_reported = false;
    bool reload_requested = false;  // an ignore file changed during this batch
    std::atomic<std::size_t> watched{0};
    std::atomic<std::size_t> unwatched{0};
    std::thread thread;

    State(IgnoreRules& rules_in, ChangeHandler change, ProblemHandler problem, int inotify, int wake)
        : rules(rules_in), on_change(std::move(change)), on_problem(std::move(problem)), inotify_fd(inotify),
          wake_fd(wake), watches(inotify, rules_in.root(), kWatchMask), settling(rules_in.root()) {}
    ~State();

    void watch_tree(const std::string& directory, bool report_files);
    void rescan();
    void after_watch_changes();
    void report(const Error& problem);
    void handle_git_event(const inotify_event& event);
    void handle_file_event(const std::string& path, std::uint32_t mask);
    void handle_event(const inotify_event& event);
    void handle_overflow();
    bool read_events(bool& overflow);
    void run();
};

DiskWatcher::State::~State() {
    if (thread.joinable()) {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto written = ::write(wake_fd, &one, sizeof one);
        thread.join();
    }
    if (inotify_fd >= 0) ::close(inotify_fd);
    if (wake_fd >= 0) ::close(wake_fd);
}

void DiskWatcher::State::report(const Error& problem) {
    if (on_problem) on_problem(problem);
}

// Publishes the counts for stats() and reports the watch limit, once, when it is first hit.
void DiskWatcher::State::after_watch_changes() {
    watched = watches.watched_count();
    unwatched = watches.unwatched_count();
    if (!limit_reported && watches.unwatched_count() > 0) {
        limit_reported = true;
        report(detail::watch_limit_problem(watches.unwatched_count(), rules.root()));
    }
}

// Watches `directory` and every directory below it that counts. The watch comes before the
// listing, so a file written meanwhile is either seen here or by an event: with `report_files`,
// the files found are reported too (they may have been written before the watch existed);
// without, they are only remembered as there.
void DiskWatcher::State::watch_tree(const std::string& directory, bool report_files) {
    if (!watches.is_watched(directory)) watches.add(directory);
    detail::walk_tree(rules, directory, [&](const TreeEntry& entry) {
        if (entry.match.ignored) return;
        if (entry.is_directory) {
            if (!watches.is_watched(entry.path)) watches.add(entry.path);
        } else if (report_files) {
            // A new directory may bring its own .gitignore (a checkout): reread the rules.
            if (IgnoreRules::is_ignore_file(entry.path)) reload_requested = true;
            settling.ready(entry.path);
        } else {
            settling.remember(entry.path);
        }
    });
}

// After the rules changed: watch directories that now count (reporting their files), drop the
// watches of those now ignored.
void DiskWatcher::State::rescan() {
    for (const auto& directory : watches.directories())
        if (!directory.empty() && rules.match(directory, true).ignored) watches.remove_tree(directory);
    std::unordered_set<std::string> newly_watched;
    detail::walk_tree(rules, "", [&](const TreeEntry& entry) {
        if (entry.match.ignored) return;
        const auto slash = entry.path.rfind('/');
        const std::string parent = slash == std::string::npos ? "" : entry.path.substr(0, slash);
        if (entry.is_directory) {
            if (!watches.is_watched(entry.path) && watches.add(entry.path) == detail::WatchedDirectories::AddOutcome::added)
                newly_watched.insert(entry.path);
        } else if (newly_watched.count(parent) != 0) {
            settling.ready(entry.path);
        }
    });
}

// The kernel dropped events: every file counts as changed. The batch then lists every file
// that counts (not a "" marker), so a caller matching paths against rules needs no special case.
void DiskWatcher::State::handle_overflow() {
    report(make_error(
        ErrorCode::io,
        fmt::format(
            "inotify event queue overflowed under {}: some changes were lost, so every file is treated as changed",
            rules.root().string())));
    rescan();
    detail::walk_tree(rules, "", [&](const TreeEntry& entry) {
        if (!entry.match.ignored && !entry.is_directory) settling.ready(entry.path);
    });
}

// Git's index lock exists while a checkout (or reset, merge, stash) writes the tree: what it
// writes is delivered as one change once the lock goes.
void DiskWatcher::State::handle_git_event(const inotify_event& event) {
    if (event.len == 0 || std::strcmp(event.name, kGitIndexLock) != 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (event.mask & (IN_CREATE | IN_MOVED_TO)) settling.git_lock(true, now);
    else if (event.mask & (IN_DELETE | IN_MOVED_FROM)) settling.git_lock(false, now);
}

// A file's event, for SettlingPaths to decide when it counts. A new or modified regular file is
// being written until its IN_CLOSE_WRITE; symlinks and other files that are never written count when
// they appear.
void DiskWatcher::State::handle_file_event(const std::string& path, std::uint32_t mask) {
    using Touch = detail::SettlingPaths::Touch;
    const auto now = std::chrono::steady_clock::now();
    if (mask & IN_CREATE) {
        if (is_plain_file(rules.root() / path)) settling.created(path, now);
        else settling.touched(path, Touch::appeared, now);
    } else if (mask & (IN_DELETE | IN_MOVED_FROM)) {
        settling.touched(path, Touch::removed, now);
    } else if (mask & IN_MOVED_TO) {
        settling.touched(path, Touch::appeared, now);
    } else if (mask & IN_MODIFY) {
        settling.touched(path, Touch::modified, now);
    } else if (mask & IN_CLOSE_WRITE) {
        settling.touched(path, Touch::written, now);
    } else if (mask & IN_ATTRIB) {
        settling.touched(path, Touch::attributes, now);
    }
}

void DiskWatcher::State::handle_event(const inotify_event& event) {
    if (event.mask & IN_IGNORED) {
        watches.forget(event.wd);
        return;
    }
    if (event.wd == git_info_watch) {
        if (event.len > 0 && std::strcmp(event.name, "exclude") == 0) reload_requested = true;
        return;
    }
    if (event.wd == git_dir_watch) return handle_git_event(event);
    const std::string* directory = watches.directory_of(event.wd);
    if (directory && directory->empty() && (event.mask & IN_DELETE_SELF))
        report(make_error(ErrorCode::io,
                          fmt::format("the watched project directory {} was deleted", rules.root().string())));
    if (!directory || event.len == 0) return;  // events on the directory itself: its parent reports them
    const std::string path = detail::join_relative(*directory, event.name);
    const bool is_directory = (event.mask & IN_ISDIR) != 0;
    if (!is_directory && IgnoreRules::is_ignore_file(path)) reload_requested = true;
    if (rules.match(path, is_directory).ignored) return;

    if (!is_directory) return handle_file_event(path, event.mask);
    if (event.mask & (IN_CREATE | IN_MOVED_TO)) {
        settling.ready(path);
        watch_tree(path, true);
    } else if (event.mask & (IN_DELETE | IN_MOVED_FROM)) {
        settling.ready(path);
        watches.remove_tree(path);
    }
}

// Reads every event that is ready (a burst lands in one batch). False when the descriptor failed.
bool DiskWatcher::State::read_events(bool& overflow) {
    alignas(inotify_event) char buffer[64 * 1024];
    while (true) {
        const ssize_t length = ::read(inotify_fd, buffer, sizeof buffer);
        if (length < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        if (length == 0) return false;
        for (ssize_t offset = 0; offset < length;) {
            const auto* event = reinterpret_cast<const inotify_event*>(buffer + offset);
            if (event->mask & IN_Q_OVERFLOW) overflow = true;
            else handle_event(*event);
            offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        }
    }
}

// Waits for events, or for the moment held paths settle, and delivers what has settled.
void DiskWatcher::State::run() {
    pollfd fds[2] = {{inotify_fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    while (true) {
        if (::poll(fds, 2, poll_timeout(settling.deadline())) < 0) {
            if (errno == EINTR) continue;
            report(make_error(ErrorCode::io, std::string("the file watcher stopped: poll: ") + std::strerror(errno)));
            return;
        }
        if (fds[1].revents != 0) return;
        bool overflow = false;
        if (fds[0].revents != 0 && !read_events(overflow)) {
            report(make_error(ErrorCode::io, std::string("the file watcher stopped: read: ") + std::strerror(errno)));
            return;
        }
        if (reload_requested) {
            reload_requested = false;
            if (auto status = rules.reload(); !status.ok()) report(status.error());
            rescan();
        }
        if (overflow) handle_overflow();
        after_watch_changes();
        auto settled = settling.take(std::chrono::steady_clock::now());
        if (!settled.empty() && on_change) on_change(std::move(settled));
    }
}

DiskWatcher::DiskWatcher(std::unique_ptr<State> state) : state_(std::move(state)) {}
DiskWatcher::~DiskWatcher() = default;

WatchStats DiskWatcher::stats() const { return WatchStats{state_->watched.load(), state_->unwatched.load()}; }

// Every directory is watched before start() returns, so a save right after it is seen. A watch
// limit hit while starting is reported (on this thread) before start() returns.
Result<std::unique_ptr<DiskWatcher>> DiskWatcher::start(IgnoreRules& rules, ChangeHandler on_change,
                                                        ProblemHandler on_problem) {
    const int inotify_fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (inotify_fd < 0)
        return make_error(ErrorCode::io, std::string("cannot start watching files: inotify_init1: ") + std::strerror(errno));
    const int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd < 0) {
        ::close(inotify_fd);
        return make_error(ErrorCode::io, std::string("cannot start watching files: eventfd: ") + std::strerror(errno));
    }
    auto state = std::make_unique<State>(rules, std::move(on_change), std::move(on_problem), inotify_fd, wake_fd);
    if (state->watches.add("") != detail::WatchedDirectories::AddOutcome::added &&
        state->watches.unwatched_count() == 0)
        return make_error(ErrorCode::io,
                          fmt::format("cannot watch {}: {}", rules.root().string(), std::strerror(errno)));
    state->watch_tree("", false);
    state->git_info_watch = ::inotify_add_watch(inotify_fd, (rules.root() / kGitInfo).c_str(),
                                                IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_ONLYDIR);
    state->git_dir_watch = ::inotify_add_watch(inotify_fd, git_directory(rules.root()).c_str(),
                                               IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR);
    state->after_watch_changes();
    State* raw = state.get();
    raw->thread = std::thread([raw] { raw->run(); });
    return std::make_unique<DiskWatcher>(std::move(state));
}

}  // namespace tandem
