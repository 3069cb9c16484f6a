// What shipper has deployed: the kept revisions with their artifacts (for rollback), the one
// deployed now, whether a rollback pinned it, and the commits it will not deploy again.
// Stored as JSON in the state directory and rewritten atomically after every change.
#pragma once

#include <tandem/change_event.hpp>
#include <tandem/error.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tandem {

struct ReleaseRecord {
    std::string commit;    // full id
    std::string author;
    std::string subject;
    std::chrono::system_clock::time_point deployed;
    std::string actor;     // who deployed it: "poll", "sync command", "rollback by user root", ...
    ChangeEvent how = ChangeEvent::deploy;  // deploy, rollback, revert, recover; rejected (in `rejections`)
    // service -> "sha256:...": a built service's artifact in the store; for the others, the digest
    // of the committed files of their workdir in the release directory (release_sources.hpp)
    std::map<std::string, std::string> artifacts;
};

struct ReleaseHistory {
    std::string deployed;      // the commit running now; "" before the first deploy
    std::string previous;      // the last good commit before it: where a revert goes
    bool pinned = false;       // a rollback chose `deployed`; the branch head then was...
    std::string pinned_head;   // ...this: shipper waits for a commit other than it
    std::map<std::string, std::string> rejected;  // commit -> why (reverted, refused): never deployed again
    std::vector<ReleaseRecord> releases;  // newest first, at most the policy's history.keep
    std::map<std::string, std::string> running_from;  // service -> the commit whose release directory it runs in
    // The commits tried and rejected (how `rejected`, `deployed` the time of the attempt), newest
    // first, at most history.keep: what `shipper history` shows beside the kept releases.
    std::vector<ReleaseRecord> rejections;
    // The commit a deploy is under way for, written (durably) before the deploy starts and
    // cleared when it ends: an engine that finds it set at start died during that deploy.
    std::string deploying;
    // The commit the last engines died deploying, and how many engines in a row did; cleared
    // when a deploy of it ends, or when it is refused for it.
    std::string interrupted_commit;
    int interrupted_deploys = 0;

    const ReleaseRecord* find(const std::string& commit_or_prefix) const;
    // Adds `record` first (an earlier record of the same commit moves up) and keeps `keep`.
    void add(ReleaseRecord record, int keep);
    // Marks `record.commit` as not to be deployed again because of `why`, and keeps its record
    // among the `keep` newest rejections.
    void reject(ReleaseRecord record, const std::string& why, int keep);

    static Result<ReleaseHistory> load(const std::filesystem::path& file);  // a missing file: empty
    Status save(const std::filesystem::path& file) const;                  // temp file, fsync, rename
};

std::string to_json(const ReleaseHistory& history, int indent = 2);

}  // namespace tandem
