// SettlingPaths: which of the watcher's changed paths have settled (see the header).
#include "source/settling_paths.hpp"

#include <sys/stat.h>

#include <algorithm>

namespace tandem::detail {

std::optional<SettlingPaths::Signature> SettlingPaths::signature(const std::string& path) const {
    struct stat info {};
    if (::lstat((root_ / path).c_str(), &info) != 0) return std::nullopt;
    Signature s;
    s.inode = info.st_ino;
    s.size = static_cast<std::uint64_t>(info.st_size);
    s.mode = info.st_mode;
    s.owner = info.st_uid;
    s.group = info.st_gid;
    s.mtime_ns = static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec;
    return s;
}

void SettlingPaths::remember(const std::string& path) {
    if (auto s = signature(path); s && !S_ISDIR(s->mode)) known_[path] = *s;
}

SettlingPaths::Held& SettlingPaths::hold(const std::string& path, Clock::time_point now) {
    last_event_ = now;
    auto [it, inserted] = held_.try_emplace(path);
    if (inserted) {
        it->second.since = now;
        order_.push_back(path);
    }
    return it->second;
}

void SettlingPaths::ready(const std::string& path) { hold(path, Clock::now()).as_is = true; }

void SettlingPaths::created(const std::string& path, Clock::time_point now) {
    Held& held = hold(path, now);
    held.open = true;
    held.content = true;
}

void SettlingPaths::touched(const std::string& path, Touch touch, Clock::time_point now) {
    Held& held = hold(path, now);
    // An IN_ATTRIB while the file is open (sed's fchmod of its temp file) is part of the write.
    if (touch == Touch::modified) held.open = true;
    if (touch == Touch::written || touch == Touch::removed) held.open = false;
    if (touch != Touch::attributes) held.content = true;
}

void SettlingPaths::git_lock(bool held, Clock::time_point now) {
    last_event_ = now;
    if (held) {
        git_locked_since_ = now;
    } else {
        git_locked_since_.reset();
        release_all_ = true;  // the checkout is complete: all it wrote is one change
    }
}

// Deliver, hold or drop one path. A known file that was written counts at once; one that was
// only touched by IN_ATTRIB counts if its stat changed (vim's chmod after a save does not); a
// file that appeared or disappeared counts once things are quiet; one that appeared and went
// again (a temp file renamed away or deleted) never counts.
SettlingPaths::Verdict SettlingPaths::judge(const std::string& path, const Held& held, Clock::time_point now,
                                            bool quiet) {
    const auto now_sig = signature(path);
    if (held.as_is) {
        if (now_sig && !S_ISDIR(now_sig->mode)) known_[path] = *now_sig;
        else known_.erase(path);
        return Verdict::deliver;
    }
    // Open for writing: only its IN_CLOSE_WRITE (or its removal) settles it, however long that
    // takes; a file a running program keeps appending to is never a change of its own.
    if (held.open) return Verdict::hold;
    const bool overdue = now - held.since >= kLimit;
    const auto known = known_.find(path);
    if (now_sig && known != known_.end()) {
        if (!held.content && known->second == *now_sig) return Verdict::drop;
        known->second = *now_sig;
        return Verdict::deliver;
    }
    if (!now_sig && known == known_.end()) return Verdict::drop;
    if (!quiet && !overdue) return Verdict::hold;
    if (now_sig) known_[path] = *now_sig;
    else known_.erase(known);
    return Verdict::deliver;
}

std::vector<std::string> SettlingPaths::take(Clock::time_point now) {
    std::vector<std::string> settled;
    if (git_locked_since_) {
        if (now - *git_locked_since_ < kLockLimit) return settled;
        git_locked_since_.reset();  // a stale lock (git crashed): stop waiting for it
        release_all_ = true;
    }
    const bool quiet = release_all_ || now - last_event_ >= kQuiet;
    release_all_ = false;
    std::vector<std::string> still_held;
    for (auto& path : order_) {
        const auto it = held_.find(path);
        switch (judge(path, it->second, now, quiet)) {
            case Verdict::deliver: settled.push_back(std::move(path)); held_.erase(it); break;
            case Verdict::drop: held_.erase(it); break;
            case Verdict::hold: still_held.push_back(std::move(path)); break;
        }
    }
    order_ = std::move(still_held);
    return settled;
}

std::optional<SettlingPaths::Clock::time_point> SettlingPaths::deadline() const {
    if (held_.empty()) return std::nullopt;
    if (git_locked_since_) return *git_locked_since_ + kLockLimit;
    std::optional<Clock::time_point> due;
    for (const auto& [path, held] : held_)
        if (!held.open) due = std::min(due.value_or(Clock::time_point::max()), std::min(last_event_ + kQuiet, held.since + kLimit));
    return due;
}

}  // namespace tandem::detail
