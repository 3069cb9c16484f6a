// A commit whose fetch never finishes: git's own walk of a hostile tree (100,000 levels deep),
// or a pack too big for --fetch-timeout. Each timed-out fetch names origin's commit with
// `git ls-remote` and counts it; at kMaxStalledFetches in a row of the same commit that commit
// is refused (audited, in history and status), and polls stop fetching while origin's ref still
// points at it, instead of spending a fetch timeout of git's CPU on it every poll.
#pragma once

#include "release/release_state.hpp"

#include <optional>

namespace tandem::release {

inline constexpr int kMaxStalledFetches = 3;

// Before a fetch: an outcome ("held back") when origin's ref still points at a commit refused
// for stalling, so that the fetch is skipped; nullopt to fetch.
std::optional<ReleaseOutcome> skip_stalled_commit(ReleaseLoop::State& s);

// After a fetch that timed out: names the commit it was for, counts it, and refuses it at the
// limit. Returns the error to report, the commit named in it.
Error count_stalled_fetch(ReleaseLoop::State& s, const Error& timed_out);

}  // namespace tandem::release
