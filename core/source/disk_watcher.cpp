// DiskWatcher: one inotify descriptor watched by its own thread, which turns each burst of
// kernel events into one batch of relative paths (ignored ones dropped, duplicates merged) and
// hands it over at once. Directories are watched as they appear; ignore-file edits reload the
// rules and re-scan which directories count.
#include <tandem/watch.hpp>

#include "source/tree_walk.hpp"
#include "source/watched_directories.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <unordered_set>

namespace tandem {
namespace {

// One event per save: IN_CLOSE_WRITE rather than IN_MODIFY (which fires on every write()),
// IN_ATTRIB so that `touch file` triggers, creates/moves/deletes for the tree's shape.
constexpr std::uint32_t kWatchMask = IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |
                                     IN_ATTRIB | IN_DELETE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW;
constexpr const char* kGitInfo = ".git/info";

// Paths in first-seen order, each once.
class Batch {
public:
    void add(std::string path) {
        if (seen_.insert(path).second) paths_.push_back(std::move(path));
    }
    bool empty() const { return paths_.empty(); }
    std::vector<std::string> take() { return std::move(paths_); }

private:
    std::vector<std::string> paths_;
    std::unordered_set<std::string> seen_;
};

bool is_plain_file(const std::filesystem::path& path) {
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

}  // namespace

struct DiskWatcher::State {
    IgnoreRules& rules;
    ChangeHandler on_change;
    ProblemHandler on_problem;
    int inotify_fd = -1;
    int wake_fd = -1;     // an eventfd written to stop the thread
    int git_info_watch = -1;  // .git/info, watched only for changes of `exclude`
    detail::WatchedDirectories watches;
    bool limit_reported = false;
    bool reload_requested = false;  // an ignore file changed during this batch
    std::atomic<std::size_t> watched{0};
    std::atomic<std::size_t> unwatched{0};
    std::thread thread;

    State(IgnoreRules& rules_in, ChangeHandler change, ProblemHandler problem, int inotify, int wake)
        : rules(rules_in), on_change(std::move(change)), on_problem(std::move(problem)), inotify_fd(inotify),
          wake_fd(wake), watches(inotify, rules_in.root(), kWatchMask) {}
    ~State();

    void watch_tree(const std::string& directory, Batch* report_files);
    void rescan(Batch& batch);
    void after_watch_changes();
    void report(const Error& problem);
    void handle_event(const inotify_event& event, Batch& batch);
    void handle_overflow(Batch& batch);
    bool read_events(Batch& batch, bool& overflow);
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
// the files found are reported too (they may have been written before the watch existed).
void DiskWatcher::State::watch_tree(const std::string& directory, Batch* report_files) {
    if (!watches.is_watched(directory)) watches.add(directory);
    detail::walk_tree(rules, directory, [&](const TreeEntry& entry) {
        if (entry.match.ignored) return;
        if (entry.is_directory) {
            if (!watches.is_watched(entry.path)) watches.add(entry.path);
        } else if (report_files) {
            // A new directory may bring its own .gitignore (a checkout): reread the rules.
            if (IgnoreRules::is_ignore_file(entry.path)) reload_requested = true;
            report_files->add(entry.path);
        }
    });
}

// After the rules changed: watch directories that now count (reporting their files), drop the
// watches of those now ignored.
void DiskWatcher::State::rescan(Batch& batch) {
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
            batch.add(entry.path);
        }
    });
}

// The kernel dropped events: every file counts as changed. The batch then lists every file
// that counts (not a "" marker), so a caller matching paths against rules needs no special case.
void DiskWatcher::State::handle_overflow(Batch& batch) {
    report(make_error(ErrorCode::io, "inotify event queue overflowed under " + rules.root().string() +
                                         ": some changes were lost, so every file is treated as changed"));
    rescan(batch);
    detail::walk_tree(rules, "", [&](const TreeEntry& entry) {
        if (!entry.match.ignored && !entry.is_directory) batch.add(entry.path);
    });
}

void DiskWatcher::State::handle_event(const inotify_event& event, Batch& batch) {
    if (event.mask & IN_IGNORED) {
        watches.forget(event.wd);
        return;
    }
    if (event.wd == git_info_watch) {
        if (event.len > 0 && std::strcmp(event.name, "exclude") == 0) reload_requested = true;
        return;
    }
    const std::string* directory = watches.directory_of(event.wd);
    if (directory && directory->empty() && (event.mask & IN_DELETE_SELF))
        report(make_error(ErrorCode::io, "the watched project directory " + rules.root().string() + " was deleted"));
    if (!directory || event.len == 0) return;  // events on the directory itself: its parent reports them
    const std::string path = detail::join_relative(*directory, event.name);
    const bool is_directory = (event.mask & IN_ISDIR) != 0;
    if (!is_directory && IgnoreRules::is_ignore_file(path)) reload_requested = true;
    if (rules.match(path, is_directory).ignored) return;

    if (is_directory) {
        if (event.mask & (IN_CREATE | IN_MOVED_TO)) {
            batch.add(path);
            watch_tree(path, &batch);
        } else if (event.mask & (IN_DELETE | IN_MOVED_FROM)) {
            batch.add(path);
            watches.remove_tree(path);
        }
        return;
    }
    // A new regular file is reported by its IN_CLOSE_WRITE, once it has content; symlinks and
    // other files that are never written are reported when they appear.
    if ((event.mask & IN_CREATE) && is_plain_file(rules.root() / path)) return;
    batch.add(path);
}

// Reads every event that is ready (a burst lands in one batch). False when the descriptor failed.
bool DiskWatcher::State::read_events(Batch& batch, bool& overflow) {
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
            else handle_event(*event, batch);
            offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        }
    }
}

void DiskWatcher::State::run() {
    pollfd fds[2] = {{inotify_fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    while (true) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            report(make_error(ErrorCode::io, std::string("the file watcher stopped: poll: ") + std::strerror(errno)));
            return;
        }
        if (fds[1].revents != 0) return;
        Batch batch;
        bool overflow = false;
        if (!read_events(batch, overflow)) {
            report(make_error(ErrorCode::io, std::string("the file watcher stopped: read: ") + std::strerror(errno)));
            return;
        }
        if (reload_requested) {
            reload_requested = false;
            if (auto status = rules.reload(); !status.ok()) report(status.error());
            rescan(batch);
        }
        if (overflow) handle_overflow(batch);
        after_watch_changes();
        if (!batch.empty() && on_change) on_change(batch.take());
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
        return make_error(ErrorCode::io, "cannot watch " + rules.root().string() + ": " + std::strerror(errno));
    state->watch_tree("", nullptr);
    state->git_info_watch = ::inotify_add_watch(inotify_fd, (rules.root() / kGitInfo).c_str(),
                                                IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_ONLYDIR);
    state->after_watch_changes();
    State* raw = state.get();
    raw->thread = std::thread([raw] { raw->run(); });
    return std::make_unique<DiskWatcher>(std::move(state));
}

}  // namespace tandem
