// The disk watcher's changes on their way out: one save is one change. A write to a file that
// already existed counts at once; a file still open for writing waits for its IN_CLOSE_WRITE; a
// file that appears or disappears is held until the tree is quiet for a moment, because it may
// be half of a rename-over save (sed's `sedXXXXXX` renamed onto the file, vim moving the file
// away and writing it anew, git deleting and re-creating it); while git holds its index lock,
// everything waits for the lock to go.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace tandem::detail {

class SettlingPaths {
public:
    using Clock = std::chrono::steady_clock;
    // What the kernel said about a file: IN_MODIFY (it is open for writing), IN_CLOSE_WRITE,
    // IN_ATTRIB, it appeared by a rename (or as a symlink), it was deleted or renamed away.
    enum class Touch { modified, written, attributes, appeared, removed };

    // How long a file that appeared or disappeared waits for the events that may follow it,
    // and how long at most such a file is held (a file open for writing waits for its close).
    static constexpr auto kQuiet = std::chrono::milliseconds(50);
    static constexpr auto kLimit = std::chrono::milliseconds(1000);
    static constexpr auto kLockLimit = std::chrono::milliseconds(10000);

    explicit SettlingPaths(std::filesystem::path root) : root_(std::move(root)) {}

    // A file that exists now, found by a walk: it is known, so a write to it counts at once.
    void remember(const std::string& path);
    // A path delivered as it is, with the next batch (directories, files found by a rescan).
    void ready(const std::string& path);
    // A regular file was created: it is being written and has not settled until it is closed.
    void created(const std::string& path, Clock::time_point now);
    void touched(const std::string& path, Touch touch, Clock::time_point now);
    // Git took (true) or released (false) its index lock: a checkout is writing the tree.
    void git_lock(bool held, Clock::time_point now);

    // The paths that have settled, each once, in the order first seen; the others stay held.
    // Files that appeared or disappeared count once no event came for kQuiet.
    std::vector<std::string> take(Clock::time_point now);
    // When take() would deliver more without a new event; nullopt when nothing held would.
    std::optional<Clock::time_point> deadline() const;

private:
    struct Signature {
        std::uint64_t inode = 0, size = 0, mode = 0, owner = 0, group = 0;
        std::int64_t mtime_ns = 0;
        bool operator==(const Signature&) const = default;
    };
    struct Held {
        Clock::time_point since;
        bool open = false;     // created or modified, and not closed yet
        bool content = false;  // written, created, moved or deleted: more than an IN_ATTRIB
        bool as_is = false;    // delivered as it is
    };
    enum class Verdict { deliver, hold, drop };

    Held& hold(const std::string& path, Clock::time_point now);
    std::optional<Signature> signature(const std::string& path) const;
    Verdict judge(const std::string& path, const Held& held, Clock::time_point now, bool quiet);

    std::filesystem::path root_;
    std::unordered_map<std::string, Signature> known_;  // files that exist, as last delivered
    std::unordered_map<std::string, Held> held_;
    std::vector<std::string> order_;
    Clock::time_point last_event_{};
    std::optional<Clock::time_point> git_locked_since_;
    bool release_all_ = false;  // git released its lock: what it wrote counts now
};

}  // namespace tandem::detail
