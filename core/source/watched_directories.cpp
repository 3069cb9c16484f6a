// Bookkeeping of inotify watches per directory, and the watch-limit problem text.
#include "source/watched_directories.hpp"

#include <fmt/format.h>

#include <sys/inotify.h>

#include <atomic>
#include <cerrno>
#include <fstream>

namespace tandem::detail {
namespace {

std::atomic<AddWatchCall> g_add_watch_call{nullptr};

int add_watch(int fd, const char* path, std::uint32_t mask) {
    if (const AddWatchCall call = g_add_watch_call.load()) return call(fd, path, mask);
    return inotify_add_watch(fd, path, mask);
}

// True if `path` is `directory` or lies below it.
bool is_within(std::string_view path, std::string_view directory) {
    if (directory.empty()) return true;
    if (path.substr(0, directory.size()) != directory) return false;
    return path.size() == directory.size() || path[directory.size()] == '/';
}

}  // namespace

void set_add_watch_call_for_testing(AddWatchCall call) { g_add_watch_call.store(call); }

Error watch_limit_problem(std::size_t unwatched_directories, const std::filesystem::path& root) {
    std::string limit = "?";
    std::ifstream("/proc/sys/fs/inotify/max_user_watches") >> limit;
    return make_error(
        ErrorCode::io,
        fmt::format("the inotify watch limit (fs.inotify.max_user_watches = {}) is reached: {} directories of {} are "
                    "not watched, so saves in them go unnoticed. Raise the limit with `sudo sysctl "
                    "fs.inotify.max_user_watches=524288`, and keep it across reboots with `echo "
                    "fs.inotify.max_user_watches=524288 | sudo tee /etc/sysctl.d/60-inotify.conf`; then restart. "
                    "Watching goes on for the other directories.",
                    limit, unwatched_directories, root.string()));
}

WatchedDirectories::WatchedDirectories(int inotify_fd, std::filesystem::path root, std::uint32_t mask)
    : fd_(inotify_fd), root_(std::move(root)), mask_(mask) {}

WatchedDirectories::AddOutcome WatchedDirectories::add(const std::string& directory) {
    const auto absolute = directory.empty() ? root_ : root_ / directory;
    const int watch = add_watch(fd_, absolute.c_str(), mask_);
    if (watch < 0) {
        if (errno != ENOSPC) return AddOutcome::failed;
        unwatched_.insert(directory);
        return AddOutcome::limit_reached;
    }
    unwatched_.erase(directory);
    // The same inode watched under an old name (moved directory) keeps its descriptor.
    if (const auto old = by_watch_.find(watch); old != by_watch_.end()) by_directory_.erase(old->second);
    by_watch_[watch] = directory;
    by_directory_[directory] = watch;
    return AddOutcome::added;
}

void WatchedDirectories::remove_tree(std::string_view directory) {
    // Keys that start with `directory` are contiguous; is_within drops siblings like "a.b" of "a".
    std::vector<std::string> doomed;
    for (auto it = by_directory_.lower_bound(directory); it != by_directory_.end(); ++it) {
        if (it->first.compare(0, directory.size(), directory) != 0) break;  // past every "directory…" key
        if (is_within(it->first, directory)) doomed.push_back(it->first);
    }
    for (const auto& path : doomed) {
        const int watch = by_directory_[path];
        inotify_rm_watch(fd_, watch);  // EINVAL if the kernel already dropped it: harmless
        by_watch_.erase(watch);
        by_directory_.erase(path);
    }
    for (auto it = unwatched_.lower_bound(directory); it != unwatched_.end();) {
        if (it->compare(0, directory.size(), directory) != 0) break;
        it = is_within(*it, directory) ? unwatched_.erase(it) : std::next(it);
    }
}

void WatchedDirectories::forget(int watch) {
    const auto it = by_watch_.find(watch);
    if (it == by_watch_.end()) return;
    const auto directory = by_directory_.find(it->second);
    if (directory != by_directory_.end() && directory->second == watch) by_directory_.erase(directory);
    by_watch_.erase(it);
}

const std::string* WatchedDirectories::directory_of(int watch) const {
    const auto it = by_watch_.find(watch);
    return it == by_watch_.end() ? nullptr : &it->second;
}

std::vector<std::string> WatchedDirectories::directories() const {
    std::vector<std::string> all;
    all.reserve(by_directory_.size());
    for (const auto& [directory, watch] : by_directory_) all.push_back(directory);
    return all;
}

}  // namespace tandem::detail
