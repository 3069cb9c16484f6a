// Exponential restart backoff for crashed replicas: initial, 2x, 4x ... up to a cap.
#include "execute/backoff.hpp"

#include <algorithm>

namespace tandem::execute {

Backoff::Backoff(Duration initial, Duration max, Duration stable_after)
    : initial_(std::max(initial, Duration{0})),
      max_(std::max(max, initial_)),
      stable_after_(stable_after) {}

Duration Backoff::next_delay(Clock::time_point started, Clock::time_point crashed) {
    // A replica that stayed up long enough earned a fresh start: its crash is the first again.
    if (crashed - started >= stable_after_) crashes_ = 0;
    Duration delay = initial_;
    // Doubling stops at the cap, so no number of crashes can overflow.
    for (int i = 0; i < crashes_ && delay < max_; ++i) delay *= 2;
    ++crashes_;
    return std::min(delay, max_);
}

}  // namespace tandem::execute
