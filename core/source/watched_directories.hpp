// The inotify watches of a disk watcher: which watch descriptor is which directory, and which
// directories could not get a watch because the kernel's per-user limit was reached.
#pragma once

#include <tandem/error.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tandem::detail {

// inotify_add_watch's signature; tests replace it to simulate the watch limit (ENOSPC).
using AddWatchCall = int (*)(int fd, const char* path, std::uint32_t mask);
// Test seam: every watch added afterwards goes through `call` (nullptr restores the real one).
void set_add_watch_call_for_testing(AddWatchCall call);

// The problem reported once when the watch limit is hit: how many directories are left out,
// and the sysctl that raises the limit (and how to keep it across reboots).
Error watch_limit_problem(std::size_t unwatched_directories, const std::filesystem::path& root);

class WatchedDirectories {
public:
    enum class AddOutcome { added, limit_reached, failed };

    WatchedDirectories(int inotify_fd, std::filesystem::path root, std::uint32_t mask);

    // Watches `directory` (relative to root). A directory that hits the limit is remembered as
    // unwatched; one that vanished or is unreadable is simply skipped.
    AddOutcome add(const std::string& directory);
    // Drops the watches of `directory` and of every directory below it.
    void remove_tree(std::string_view directory);
    // The kernel dropped `watch` (IN_IGNORED): the directory is gone or was unwatched.
    void forget(int watch);

    const std::string* directory_of(int watch) const;
    bool is_watched(const std::string& directory) const { return by_directory_.count(directory) != 0; }
    std::vector<std::string> directories() const;
    std::size_t watched_count() const { return by_directory_.size(); }
    std::size_t unwatched_count() const { return unwatched_.size(); }

private:
    int fd_;
    std::filesystem::path root_;
    std::uint32_t mask_;
    std::unordered_map<int, std::string> by_watch_;
    std::map<std::string, int, std::less<>> by_directory_;  // ordered, so a subtree is a range
    std::set<std::string, std::less<>> unwatched_;
};

}  // namespace tandem::detail
